"""Find the weights to serve, and nothing else, in what the user or SageMaker gives us.

SageMaker unpacks ``ModelDataUrl`` into ``/opt/ml/model``; ``yolo-pipeline serve`` takes a
trained run folder (``<workdir>/model/best.pt``), an Ultralytics run (``weights/best.pt``), a
folder holding best.pt, a ``.pt`` file or a ``model.tar.gz``. Only ``best.pt`` (or ``last.pt``
when it is alone) is ever read from a model, and only through Ultralytics' safe loading
(``predictor``): the archive's other files (args.yaml, exports, plots) are never opened, since a
model ``.yaml`` is partly ``eval()``-ed and ``.pt``/``.pkl`` files are pickles.

An archive is unpacked by hand, one member: a regular file named best.pt at the root or one
folder down, size-bounded, copied into a fresh folder (no links, no other names, no paths
from the archive used on disk).
"""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from pathlib import Path

from yolo_pipeline.contract import MODEL_ARCHIVE
from yolo_pipeline.serving.errors import ModelFileError

WEIGHT_NAMES = ("best.pt", "last.pt")  # in order of preference
# Where a weight may sit below the folder given: SageMaker's /opt/ml/model and a folder of
# weights (""), a `yolo-pipeline local` workdir ("model"), an Ultralytics run ("weights").
SUBFOLDERS = ("", "model", "weights")
MAX_WEIGHT_BYTES = 2 * 1024**3  # far above any YOLO checkpoint (x models are ~120 MB)
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def _is_archive(path: Path) -> bool:
    return path.name.lower().endswith(ARCHIVE_SUFFIXES)


def _weights_in(folder: Path) -> Path | None:
    for sub in SUBFOLDERS:
        for name in WEIGHT_NAMES:
            candidate = folder / sub / name if sub else folder / name
            if candidate.is_file() and not candidate.is_symlink():
                return candidate
    return None


def _archive_member(tar: tarfile.TarFile) -> tarfile.TarInfo | None:
    """best.pt (else last.pt) at the archive's root or one folder down: a regular file."""
    found: dict[tuple[int, int], tarfile.TarInfo] = {}
    for member in tar:
        parts = [p for p in member.name.split("/") if p not in ("", ".")]
        absolute = member.name.startswith(("/", "\\"))
        if not member.isreg() or absolute or ".." in parts or not 1 <= len(parts) <= 2:
            continue
        if parts[-1] in WEIGHT_NAMES:
            found.setdefault((WEIGHT_NAMES.index(parts[-1]), len(parts)), member)
    return found[min(found)] if found else None


def extract_weights(archive: Path, target_dir: Path) -> Path:
    """Copy the archive's weights (and only them) to ``target_dir/<name>``."""
    try:
        with tarfile.open(archive, mode="r:*") as tar:
            member = _archive_member(tar)
            if member is None:
                raise ModelFileError(f"{archive.name} holds no best.pt or last.pt")
            if member.size > MAX_WEIGHT_BYTES:
                raise ModelFileError(f"{archive.name}: {member.name} is larger than 2 GB")
            source = tar.extractfile(member)
            if source is None:  # pragma: no cover - isreg() members always have data
                raise ModelFileError(f"{archive.name}: {member.name} cannot be read")
            target = target_dir / Path(member.name).name  # one of WEIGHT_NAMES, no path
            with source, target.open("xb") as out:
                shutil.copyfileobj(source, out)
            return target
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, FileExistsError):
            raise
        raise ModelFileError(f"{archive.name} is not a readable model archive: {exc}") from exc


def find_weights(path: Path, scratch: Path | None = None) -> Path:
    """The weights file to serve from ``path`` (see the module docstring for what it may be).

    An archive is unpacked into ``scratch`` (a new temporary folder when not given).
    """
    path = path.expanduser()
    if path.is_file():
        if path.suffix == ".pt":
            return path
        if _is_archive(path):
            scratch = scratch or Path(tempfile.mkdtemp(prefix="yolo-serve-"))
            return extract_weights(path, scratch)
        raise ModelFileError(f"{path.name} is neither a .pt file nor a model.tar.gz")
    if not path.is_dir():
        raise ModelFileError(f"{path} does not exist")
    weights = _weights_in(path)
    if weights is not None:
        return weights
    for archive in (path / MODEL_ARCHIVE, path / "output" / MODEL_ARCHIVE):
        if archive.is_file():
            return find_weights(archive, scratch)
    raise ModelFileError(
        f"{path} holds no best.pt (looked in ., model/ and weights/) and no {MODEL_ARCHIVE}"
    )
