"""Deterministic SageMaker training job names: ``<prefix>-<dataset slug>-<hash>``.

The hash comes from the upload identity, so every delivery of one upload yields the same
name (a racing duplicate gets ``ResourceInUse``, never a second job) and a new upload of
the same dataset yields a new name. Names obey CreateTrainingJob's rules: 1-63 chars,
``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``.
"""

from __future__ import annotations

import re

from yolo_pipeline.names import slugify

MAX_LENGTH = 63
HASH_LENGTH = 10  # 40 bits of the identity hash: collisions need ~1M uploads of one dataset
PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def job_name(prefix: str, dataset_name: str, identity_hash: str) -> str:
    """The job name for one upload; ``identity_hash`` is a hex digest of its identity."""
    digest = identity_hash[:HASH_LENGTH].lower()
    if not PATTERN.match(prefix) or len(prefix) > MAX_LENGTH - HASH_LENGTH - 4:
        raise ValueError(f"job name prefix {prefix!r} cannot start a valid job name")
    if len(digest) < HASH_LENGTH or not digest.isalnum():
        raise ValueError("identity_hash must be a hex digest")
    room = MAX_LENGTH - len(prefix) - len(digest) - 2
    name = f"{prefix}-{slugify(dataset_name, room)}-{digest}"
    assert PATTERN.match(name) and len(name) <= MAX_LENGTH, name  # guaranteed by construction
    return name
