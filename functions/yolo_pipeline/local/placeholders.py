"""What a local run uses where a deployed stack has real resources."""

from __future__ import annotations

from yolo_pipeline.launcher.job_request import (
    PLACEHOLDER_CHECKPOINT_S3_URI,
    PLACEHOLDER_IMAGE_URI,
    PLACEHOLDER_OUTPUT_S3_URI,
    PLACEHOLDER_ROLE_ARN,
)
from yolo_pipeline.launcher.settings import LauncherSettings

PLACEHOLDER_BUCKET = "your-dataset-bucket"
PLACEHOLDER_ACCOUNT = "123456789012"
PLACEHOLDER_REGION = "us-east-1"


def placeholder_settings(prefix: str) -> LauncherSettings:
    return LauncherSettings(
        training_image_uri=PLACEHOLDER_IMAGE_URI,
        sagemaker_role_arn=PLACEHOLDER_ROLE_ARN,
        notification_topic_arn=f"arn:aws:sns:us-east-1:{PLACEHOLDER_ACCOUNT}:yolo-notifications",
        idempotency_table="yolo-idempotency",
        job_name_prefix=prefix,
        output_s3_uri=PLACEHOLDER_OUTPUT_S3_URI,
        checkpoint_s3_uri=PLACEHOLDER_CHECKPOINT_S3_URI,
    )


def placeholder_job_arn(job_name: str) -> str:
    return f"arn:aws:sagemaker:{PLACEHOLDER_REGION}:{PLACEHOLDER_ACCOUNT}:training-job/{job_name}"


def placeholder_dataset_uri(name: str) -> str:
    return f"s3://{PLACEHOLDER_BUCKET}/datasets/{name}/"
