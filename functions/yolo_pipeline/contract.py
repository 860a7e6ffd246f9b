"""Names that two parts of the system share: the launcher, the notifier, the CLI and the
training container all read them from here, so a rename cannot split them apart.

See docs/architecture.md ("Contracts") for what each one means to the user.
"""

from __future__ import annotations

# Files a dataset folder (or zip) holds at its root.
DATA_YAML = "data.yaml"
TRAINING_YAML = "training.yaml"
# A dataset uploaded as one archive: <DatasetPrefix><name>.zip, data.yaml at its root or
# in its single top-level folder.
ZIP_SUFFIX = ".zip"
# Where datasets are uploaded in the bucket (the launcher's default DATASET_PREFIX).
DATASET_PREFIX = "datasets/"

# Tags the launcher puts on every training job; the notifier and `status` read them back.
TAG_DATASET_URI = "yolo:dataset-uri"
# The dataset's name as the launcher sees it (the path below the dataset prefix, a zip's
# without ".zip"): its job name, email subjects and model package group follow it.
TAG_DATASET_NAME = "yolo:dataset-name"
TAG_DATA_YAML_ETAG = "yolo:data-yaml-etag"
TAG_PIPELINE = "yolo:pipeline"

# SageMaker input channels of the training job.
CHANNEL_DATASET = "dataset"
CHANNEL_WEIGHTS = "weights"

# SageMaker input modes the stack supports.
INPUT_MODES = ("File", "FastFile")

# The per-epoch metric line train.py prints and the MetricDefinitions scrape.
METRIC_LINE_PREFIX = "YOLO_METRICS"

# User metadata `yolo-pipeline upload` sets on data.yaml, its last PUT.
UPLOAD_COMPLETE_METADATA = ("yolo-upload", "complete")

# The training-image build (`make image` -> CodeBuild): the bucket prefix its source zips
# go under (template.yaml grants the project's role reads there only), and the stack
# outputs the CLI reads to find the bucket, the repository and the project.
BUILD_PREFIX = "builds/"
OUTPUT_BUCKET = "DatasetBucketName"
OUTPUT_REPOSITORY_URI = "TrainingImageRepositoryUri"
OUTPUT_BUILD_PROJECT = "ImageBuildProjectName"
# The training container's results file (model/ and output/data/), and the archive SageMaker
# makes of output/data/ next to model.tar.gz: <S3OutputPath>/<job>/output/output.tar.gz.
METRICS_JSON = "metrics.json"
OUTPUT_ARCHIVE = "output.tar.gz"
MODEL_ARCHIVE = "model.tar.gz"

# The model registry: one model package group per dataset, <prefix>-<dataset slug>; each
# package carries these CustomerMetadataProperties (the notifier writes, `models` reads).
META_JOB_NAME = "yolo:job-name"
META_DATASET_URI = "yolo:dataset-uri"
META_TASK = "yolo:task"
META_BEST_EPOCH = "yolo:best-epoch"
META_EPOCHS_RUN = "yolo:epochs-run"
META_TRAINED_AT = "yolo:trained-at"

# The training job's environment variable that pins it to what the launcher validated
# (dataset/digest.py); the container refuses a channel whose digest differs.
ENV_DATASET_DIGEST = "YOLO_DATASET_DIGEST"
# The stack output naming the uploads table (aws/uploads.py), which the CLI reads.
OUTPUT_UPLOADS_TABLE = "UploadsTableName"

# How the training container starts its FailureReason for the failures the notifier explains
# with a remedy (SageMaker keeps the first 1,024 characters of /opt/ml/output/failure).
FAILURE_DATASET_CHANGED = "The dataset changed after it was checked"
FAILURE_NAN_LOSS = "Training stopped: the losses became NaN or infinite"
FAILURE_STALL = "Training stopped: no epoch finished within"
