"""Env-var parsing shared by both Lambdas' settings: each value checked once, at cold start.

A missing or malformed variable raises ``SettingsError`` naming it, instead of failing
later inside a request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from yolo_pipeline.errors import PipelineError

JOB_NAME_PREFIX_PATTERN = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,19}$")


class SettingsError(PipelineError, ValueError):
    """An env var is missing or invalid."""


def get(env: Mapping[str, str], name: str, default: str | None = None) -> str:
    value = env.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise SettingsError(f"environment variable {name} is required but not set")
    return default


def boolean(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = get(env, name, "true" if default else "false").lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"environment variable {name}={raw!r} is not a boolean (true/false)")


def integer(env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int) -> int:
    raw = get(env, name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {name}={raw!r} is not an integer") from None
    if not minimum <= value <= maximum:
        raise SettingsError(
            f"environment variable {name}={value} is outside [{minimum}, {maximum}]"
        )
    return value


def s3_uri(env: Mapping[str, str], name: str) -> str:
    value = get(env, name)
    if not value.startswith("s3://") or len(value) <= len("s3://"):
        raise SettingsError(f"environment variable {name}={value!r} must be an s3:// URI")
    return value if value.endswith("/") else value + "/"


def job_name_prefix(env: Mapping[str, str]) -> str:
    prefix = get(env, "JOB_NAME_PREFIX", "yolo")
    if not JOB_NAME_PREFIX_PATTERN.match(prefix):
        raise SettingsError(
            f"JOB_NAME_PREFIX={prefix!r} must be 1-20 letters, digits or inner hyphens"
        )
    return prefix
