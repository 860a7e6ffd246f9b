"""Unit tests of yolo_pipeline.training."""
