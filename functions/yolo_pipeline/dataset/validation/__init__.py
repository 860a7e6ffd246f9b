"""Dataset validation: the validator, the report it returns, and the passes it runs."""

from yolo_pipeline.dataset.data_yaml import SPLITS
from yolo_pipeline.dataset.validation.report import DatasetStats, Report, SplitStats
from yolo_pipeline.dataset.validation.validator import validate_dataset, validate_location

__all__ = [
    "SPLITS",
    "DatasetStats",
    "Report",
    "SplitStats",
    "validate_dataset",
    "validate_location",
]
