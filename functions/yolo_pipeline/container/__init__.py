"""The training container: the SageMaker contract in small modules (entry: training_image/train.py)."""
