"""Unit tests of yolo_pipeline.cli."""
