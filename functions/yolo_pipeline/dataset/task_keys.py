"""The data.yaml keys of the semantic and depth tasks, which Ultralytics reads and the
validator checks (dataset/validation/tasks): they reach the training copy of data.yaml."""

from __future__ import annotations

from typing import Final

SEMANTIC_KEYS: Final = frozenset({"masks_dir", "label_mapping"})
DEPTH_KEYS: Final = frozenset({"depth_scale", "max_depth"})
# ``task:`` tells the validator the task (classification's trigger holds only that).
TASK_KEY: Final = "task"
TASK_DATA_KEYS: Final = SEMANTIC_KEYS | DEPTH_KEYS
TASK_YAML_KEYS: Final = TASK_DATA_KEYS | {TASK_KEY}
