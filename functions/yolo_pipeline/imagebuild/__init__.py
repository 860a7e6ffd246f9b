"""Building the training image remotely: the build context zip and the CodeBuild run."""
