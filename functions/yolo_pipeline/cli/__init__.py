"""The ``yolo-pipeline`` command line: one module per command."""
