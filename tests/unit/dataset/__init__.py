"""Unit tests of yolo_pipeline.dataset."""
