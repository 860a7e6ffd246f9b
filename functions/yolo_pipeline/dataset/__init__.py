"""A dataset as Ultralytics reads it: data.yaml, label rules, storage (folder, S3), validation."""
