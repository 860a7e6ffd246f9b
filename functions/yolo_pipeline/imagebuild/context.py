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

Symbolic links the ignore file keeps are refused, files and folders alike: following one
would copy whatever it points at (outside the repository too) into the zip that is
uploaded and baked into the image, and CodeBuild's unzip would not restore it as a link.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from yolo_pipeline.errors import PipelineError
from yolo_pipeline.imagebuild.dockerignore import Matcher
from yolo_pipeline.text import quote

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


def _refuse_link(rel: str, path: Path) -> NoReturn:
    target = path.readlink()
    raise BuildContextError(
        f"{quote(rel)} is a symbolic link (to {quote(str(target))}): the build context takes "
        "regular files only; "
        "replace it with the file itself or list it in the .dockerignore"
    )


def context_files(root: Path, dockerfile: str = DOCKERFILE) -> list[str]:
    """Every regular file of the context that the ignore file keeps, sorted; a kept
    symbolic link raises ``BuildContextError``."""
    ignore = ignore_file(root, dockerfile)
    matcher = Matcher.from_text((root / ignore).read_text("utf-8") if ignore else "")
    kept: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = Path(dirpath).relative_to(root).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        # Prune in place: never descend into .venv, datasets, ... unless an exception
        # pattern reaches inside (Docker's walker makes the same decision).
        dirnames[:] = sorted(d for d in dirnames if not matcher.may_skip_directory(prefix + d))
        for d in dirnames:  # os.walk lists a link to a folder here and never follows it
            if (Path(dirpath) / d).is_symlink() and not matcher.ignored(prefix + d):
                _refuse_link(prefix + d, Path(dirpath) / d)
        for name in filenames:
            rel, path = prefix + name, Path(dirpath) / name
            if matcher.ignored(rel):
                continue
            if path.is_symlink():
                _refuse_link(rel, path)
            if path.is_file():
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
                mode = path.lstat().st_mode
                if not stat.S_ISREG(mode):  # the Dockerfile, buildspec or ignore file a link
                    _refuse_link(rel, path)
                content = path.read_bytes()
            except OSError as exc:
                raise BuildContextError(f"cannot read {rel}: {exc.strerror}") from exc
            info = zipfile.ZipInfo(rel, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | stat.S_IMODE(mode)) << 16
            zf.writestr(info, content)
    return BuildContext(buffer.getvalue(), tuple(files))
