"""Images that pass Ultralytics' label scan but that training cannot decode, found before
training so the failure names them instead of stopping the first epoch ("Image Not Found").

The scan opens each image with Pillow; training decodes it with OpenCV through Ultralytics'
``utils.patches.imread``. The two differ for TIFFs of 32-bit samples (float or integer):
Pillow reads them, OpenCV cannot. HEIC/HEIF decode only through pi-heif, which the training
image carries (Ultralytics would pip-install it at first use, which is impossible offline).
Only images whose format can diverge are examined, so the cost is a header read per TIFF,
one decode per suspicious TIFF and one HEIC decode: JPEG and PNG sets pay nothing.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

from yolo_pipeline.container.errors import UserError

# Pillow modes OpenCV's TIFF reader decodes (8 and 16 bits per sample).
_DECODABLE_TIFF_MODES = frozenset(
    {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "I;16", "I;16B", "I;16L", "I;16N"}
)
_TIFF = (".tif", ".tiff")
_HEIF = (".heic", ".heif")


def _cv2_flag(channels: int) -> int:
    """The flag Ultralytics' dataset reads with (``data/base.py``): OpenCV's IMREAD_GRAYSCALE
    (0), IMREAD_COLOR (1) or IMREAD_UNCHANGED (-1), constants fixed by OpenCV's API."""
    return {1: 0, 3: 1}.get(channels, -1)


def _decodes(path: Path, flag: int) -> bool:
    from ultralytics.utils.patches import imread  # heavy: training image only

    return imread(str(path), flags=flag) is not None


def _tiff_suspect(path: Path) -> bool:
    """A TIFF whose samples OpenCV may not read, from its header alone (Pillow is lazy)."""
    from PIL import Image  # a decoder, only for the images it checks

    try:
        with Image.open(path) as im:
            return im.mode not in _DECODABLE_TIFF_MODES
    except Exception:  # Pillow cannot open it: Ultralytics' scan drops it and says so
        return False


def undecodable(images: Iterable[Path], channels: int = 3) -> list[str]:
    """``"path: reason"`` for each image training would fail to decode."""
    flag: int | None = None
    found: list[str] = []
    heif: list[Path] = []
    for path in images:
        suffix = path.suffix.lower()
        if suffix in _HEIF:
            heif.append(path)
        elif suffix in _TIFF and _tiff_suspect(path):
            flag = _cv2_flag(channels) if flag is None else flag
            if not _decodes(path, flag):
                found.append(f"{path}: a TIFF of 32-bit samples, which OpenCV cannot decode")
    if heif:
        found += _heif_problems(heif, _cv2_flag(channels) if flag is None else flag)
    return found


def _heif_problems(images: list[Path], flag: int) -> list[str]:
    """HEIC/HEIF: pi-heif must be installed, and the first picture must decode, which proves
    the decoder works; a damaged picture after it is dropped by Ultralytics' scan, named."""
    if importlib.util.find_spec("pi_heif") is None:
        reason = "HEIC/HEIF needs pi-heif, which this training image lacks"
    elif not _decodes(images[0], flag):
        reason = f"HEIC/HEIF pictures do not decode here ({images[0].name} failed)"
    else:
        return []
    return [f"{path}: {reason}" for path in images]


MAX_NAMED = 10  # images named in the failure reason; the rest are counted


def refuse_undecodable(root: Path, splits: dict[str, list[Path]], channels: int = 3) -> None:
    """Fail before training (``UserError``, the job's failure reason) when any image of the
    splits cannot be decoded: the paid epochs would end at the first such image anyway."""
    images = dict.fromkeys(p for paths in splits.values() for p in paths)
    problems = undecodable(images, channels)
    if not problems:
        return
    shown = "; ".join(_relative(p, root) for p in problems[:MAX_NAMED])
    more = f" (and {len(problems) - MAX_NAMED} more)" if len(problems) > MAX_NAMED else ""
    raise UserError(
        f"{len(problems)} image(s) cannot be decoded for training: {shown}{more}. Convert them "
        "to 8-bit JPEG, PNG or TIFF (or remove them) and upload again."
    )


def _relative(problem: str, root: Path) -> str:
    return problem.removeprefix(str(root)).lstrip("/")
