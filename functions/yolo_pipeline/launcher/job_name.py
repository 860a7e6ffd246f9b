"""Deterministic SageMaker training job names: ``<prefix>-<dataset slug>-<hash>``.

The hash comes from the upload identity, so every delivery of one upload yields the same
name (a racing duplicate gets ``ResourceInUse``, never a second job) and a new upload of
the same dataset yields a new name. Names obey CreateTrainingJob's rules: 1-63 chars,
``[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}``.
"""

from __future__ import annotations

import re
import unicodedata

MAX_LENGTH = 63
HASH_LENGTH = 10  # 40 bits of the identity hash: collisions need ~1M uploads of one dataset
PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(name: str, max_length: int) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens; ``dataset`` if empty.

    Accents are stripped (``Café`` -> ``cafe``); other scripts, spaces and punctuation
    become hyphens. The slug is for people reading the console: the hash keeps it unique.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_ALNUM.sub("-", ascii_name.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "dataset"[:max_length]


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
