"""yolo-on-upload: validate a YOLO dataset, train it on SageMaker, email the outcome.

Shared by both Lambdas, the CLI, the training container and the tests. Modules are one
concept each; the Lambda handlers in ``functions/`` are thin wrappers around them.
"""

__version__ = "0.1.0"
