"""Training settings shared by the launcher and the container: training.yaml, the
hyperparameters, the generated Ultralytics argument list, the metric line."""
