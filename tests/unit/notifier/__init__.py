"""Unit tests of yolo_pipeline.notifier."""
