"""Unit tests of yolo_pipeline.launcher."""
