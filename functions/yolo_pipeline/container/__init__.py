"""The training container: the SageMaker contract in small modules.

The entrypoint is training_image/train.py; the image pip-installs this package.
"""
