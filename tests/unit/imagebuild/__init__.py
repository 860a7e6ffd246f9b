"""Unit tests of yolo_pipeline.imagebuild."""
