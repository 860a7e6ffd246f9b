"""One exception base for everything the pipeline raises on purpose, and the CLI's exit codes.

A ``UsageError`` is the user's mistake on the command line (a path that does not exist, a
bad option): the CLI maps it to exit 2 in one place (``cli.main``).
"""

from __future__ import annotations

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class PipelineError(Exception):
    """Base of every error this package raises deliberately."""


class UsageError(PipelineError):
    """The command was called wrongly; the CLI prints the message and exits 2."""
