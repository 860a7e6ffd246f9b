"""The dataset's one name, and the slug AWS names are built from.

Every place that names a dataset (the CLI, the launcher's emails, the notifier, the model
registry, the job's ``yolo:dataset-name`` tag) calls ``dataset_name``, so one upload is
called the same in every subject line and mail filters never split its thread.
"""

from __future__ import annotations

import re
import unicodedata

from yolo_pipeline.contract import DATA_YAML, DATASET_PREFIX, ZIP_SUFFIX

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def dataset_name(location: str, dataset_prefix: str = DATASET_PREFIX) -> str:
    """The path below the dataset prefix, a zip's without ``.zip``; ``""`` when there is none.

    ``location`` is a key or an ``s3://`` URI of the folder, its data.yaml or the zip:
    ``datasets/team/cats/data.yaml`` -> ``team/cats``; ``s3://b/datasets/cats.zip`` ->
    ``cats``. Outside the prefix the last path component is the name.
    """
    path = location.split("://", 1)[1].split("/", 1)[-1] if "://" in location else location
    path = path.lstrip("/")
    if path.endswith("/" + DATA_YAML) or path == DATA_YAML:
        path = path[: -len(DATA_YAML)]
    path = path.rstrip("/")
    if path.endswith(ZIP_SUFFIX):
        path = path[: -len(ZIP_SUFFIX)]
    prefix = dataset_prefix.lstrip("/")
    if prefix and (path + "/").startswith(prefix):
        return path[len(prefix) :].strip("/")
    return path.rsplit("/", 1)[-1]


def slugify(name: str, max_length: int) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens; ``dataset`` if empty.

    Accents are stripped (``Café`` -> ``cafe``); other scripts, spaces and punctuation
    become hyphens. The slug is for people reading the console: names that need to be
    unique add a hash of their own.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_ALNUM.sub("-", ascii_name.lower()).strip("-")
    slug = slug[:max_length].rstrip("-")
    return slug or "dataset"[:max_length]


def named_dataset(argument: str, dataset_prefix: str = DATASET_PREFIX) -> str:
    """The dataset a user names on the command line: a location (``s3://b/datasets/x/``,
    ``datasets/cats.zip``) or a bare name (``team/cats``, ``cats.zip``), read as a key below
    the dataset prefix so a nested name keeps its folders, as the launcher named it."""
    located = "://" in argument or argument.lstrip("/").startswith(dataset_prefix.lstrip("/"))
    key = argument if located else dataset_prefix + argument.lstrip("/")
    return dataset_name(key, dataset_prefix)
