"""argparse ``type=`` functions for numbers in a range: a bad value is a usage error (exit 2)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_in_range(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number from ``minimum`` to ``maximum`` (no upper bound when ``None``)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
            raise argparse.ArgumentTypeError(f"must be {bound}")
        return value

    return parse
