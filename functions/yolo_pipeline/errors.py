"""One exception base for everything the pipeline raises on purpose, and the CLI's exit codes.

Commands raise; ``cli.main`` alone turns an exception into an exit code, through each class's
``exit_code``: a ``UsageError`` (the command line was wrong: a path that does not exist, a bad
option) or an ``AwsProblem`` (credentials, region, access, a missing stack: the user's setup,
not the data) exits 2; a ``DatasetProblem`` or ``JobProblem`` (the dataset or the job is what
failed) exits 1.
"""

from __future__ import annotations

EXIT_OK, EXIT_INVALID, EXIT_USAGE = 0, 1, 2


class PipelineError(Exception):
    """Base of every error this package raises deliberately."""

    exit_code = EXIT_INVALID


class UsageError(PipelineError):
    """The command was called wrongly; the CLI prints the message and exits 2."""

    exit_code = EXIT_USAGE


class DatasetProblem(PipelineError):
    """The dataset is refused or could not be sent; the message says what to fix. Exit 1."""


class JobProblem(PipelineError):
    """A training run failed; the message says why. Exit 1."""


class AwsProblem(PipelineError):
    """An AWS call failed (credentials, region, access, a missing resource); the message says
    what to check. Exit 2, so a script can tell broken access from a broken dataset."""

    exit_code = EXIT_USAGE


def exit_code(exc: PipelineError) -> int:
    """The exit code the command line gives for ``exc``."""
    return exc.exit_code
