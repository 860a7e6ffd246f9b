"""The pipeline on this machine: a simulator of SageMaker's /opt/ml contract and job records.

``placeholders`` stands in for the stack, ``sample`` writes the shapes dataset, ``records``
builds what DescribeTrainingJob and EventBridge would report, ``simulator`` lays out the
SageMaker root and runs the container, ``stages`` are the four steps of ``yolo-pipeline
local``. The command line is ``cli.local``.
"""
