"""Hostile inputs and the rules they are checked against, shared by the unit and the
integration tier."""

from __future__ import annotations

import json

from yolo_pipeline.aws.email import Email

SNS_MAX_BYTES = 256 * 1024  # SNS's limit on one message

# 308 bytes that expand to ~4 GB when composed with aliases (the red team's file).
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
)
DEEP = "epochs: " + "[" * 5000 + "]" * 5000 + "\n"


def assert_sns_accepts(email: Email) -> None:
    """SNS's rules: subject ASCII, < 100 chars, no control characters; message < 256 KB."""
    assert email.subject.isascii() and len(email.subject) < 100
    assert all(" " <= c < "\x7f" for c in email.subject), repr(email.subject)
    size = len(email.body.encode("utf-8")) + len(json.dumps(email.attributes))
    assert size < SNS_MAX_BYTES
    assert not any(c in email.body for c in "\x00\x1b\r")


def as_text(email: Email) -> str:
    attributes = ", ".join(f"{k}={v}" for k, v in sorted(email.attributes.items()))
    return f"Subject: {email.subject}\nAttributes: {attributes}\n\n{email.body}"
