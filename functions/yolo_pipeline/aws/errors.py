"""What an AWS error says: the one reader of botocore's ``ClientError`` response.

Read by duck typing (``exc.response["Error"]``), so this module imports no botocore: the
training container, which has none, shares the storage code that calls it.
"""

from __future__ import annotations

from typing import Any

from yolo_pipeline.text import clean


def _error(exc: BaseException) -> dict[str, Any]:
    response = getattr(exc, "response", None)
    error = response.get("Error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else {}


def error_code(exc: BaseException) -> str:
    """The AWS error code (``NoSuchKey``, ``ResourceLimitExceeded``); ``""`` if none."""
    return str(_error(exc).get("Code", "") or "")


def error_message(exc: BaseException, limit: int = 300) -> str:
    """The AWS error message, bounded and inert (it may echo user input), else the code."""
    message = str(_error(exc).get("Message", "") or "")
    return clean(message or error_code(exc) or str(exc), limit)


# What an access-type error means for the person at the keyboard.
_HINTS = {
    "NoSuchBucket": "the bucket does not exist (check the name and region)",
    "AccessDenied": "access denied (check your credentials and the bucket policy)",
    "NoSuchKey": "the object does not exist",
}


def error_summary(exc: BaseException, limit: int = 300) -> str:
    """``Code: message`` for a ClientError (``Code: hint`` for the usual access errors), the
    exception's type and text otherwise; bounded and inert."""
    code = error_code(exc)
    if code in _HINTS:
        return f"{code}: {_HINTS[code]}"
    if code:
        message = error_message(exc, limit)
        return clean(f"{code}: {message}" if message != code else code, limit)
    return clean(f"{type(exc).__name__}: {exc}", limit)
