"""Unit tests of the training container (yolo_pipeline.container and its Dockerfile)."""
