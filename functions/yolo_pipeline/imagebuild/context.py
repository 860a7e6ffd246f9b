"""The build context of the training image as a zip, for a CodeBuild S3 source.

What goes in is what ``docker build -f training_image/Dockerfile .`` would send: every
file under the repository root that the ignore file does not exclude (Docker reads
``<Dockerfile>.dockerignore`` beside the Dockerfile when there is one, else
``.dockerignore`` at the context root). On top of that, the files the builder itself
reads and Docker always has: the Dockerfile, the ignore file and the buildspec. Nothing
is hard-coded beyond those three, so the zip follows the Dockerfile's COPY lines as the
ignore file follows them.

The zip is reproducible (sorted entries, fixed timestamps, permissions kept), so the
same tree gives the same bytes and the same S3 key.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path

from yolo_pipeline.errors import PipelineError
from yolo_pipeline.imagebuild.dockerignore import Matcher

DOCKERFILE = "training_image/Dockerfile"
BUILDSPEC = "training_image/buildspec.yml"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold


class BuildContextError(PipelineError):
    """The build context cannot be assembled (missing Dockerfile, file unreadable)."""


@dataclass(frozen=True)
class BuildContext:
    data: bytes
    files: tuple[str, ...]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def ignore_file(root: Path, dockerfile: str = DOCKERFILE) -> str | None:
    """The ignore file Docker uses for ``dockerfile``, relative to ``root`` (or None)."""
    for candidate in (f"{dockerfile}.dockerignore", ".dockerignore"):
        if (root / candidate).is_file():
            return candidate
    return None


def context_files(root: Path, dockerfile: str = DOCKERFILE) -> list[str]:
    """Every regular file of the context that the ignore file keeps, sorted."""
    ignore = ignore_file(root, dockerfile)
    matcher = Matcher.from_text((root / ignore).read_text("utf-8") if ignore else "")
    kept: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        # Prune in place: never descend into .venv, datasets, ... unless an exception
        # pattern reaches inside (Docker's walker makes the same decision).
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not (Path(dirpath) / d).is_symlink() and not matcher.may_skip_directory(prefix + d)
        )
        for name in filenames:
            rel = prefix + name
            if not matcher.ignored(rel) and (Path(dirpath) / name).is_file():
                kept.append(rel)
    return sorted(kept)


def build_inputs(root: Path, dockerfile: str = DOCKERFILE, buildspec: str = BUILDSPEC) -> list[str]:
    """The context plus the Dockerfile, its ignore file and the buildspec."""
    for required in (dockerfile, buildspec):
        if not (root / required).is_file():
            raise BuildContextError(f"{required} not found under {root}: run from the repository")
    extra = [dockerfile, buildspec]
    ignore = ignore_file(root, dockerfile)
    if ignore:
        extra.append(ignore)
    return sorted(set(context_files(root, dockerfile)) | set(extra))


def zip_context(
    root: Path, dockerfile: str = DOCKERFILE, buildspec: str = BUILDSPEC
) -> BuildContext:
    """The zip CodeBuild unpacks as its source directory (buildspec path inside it)."""
    files = build_inputs(root, dockerfile, buildspec)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel in files:
            path = root / rel
            try:
                mode = path.stat().st_mode
                content = path.read_bytes()
            except OSError as exc:
                raise BuildContextError(f"cannot read {rel}: {exc.strerror}") from exc
            info = zipfile.ZipInfo(rel, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | stat.S_IMODE(mode)) << 16
            zf.writestr(info, content)
    return BuildContext(buffer.getvalue(), tuple(files))
