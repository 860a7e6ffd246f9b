"""Images Ultralytics' scan passes but training cannot decode are refused before training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from yolo_pipeline.container import image_check
from yolo_pipeline.container.errors import UserError

pytest.importorskip("ultralytics")


def _tiff(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def test_a_float_tiff_is_named_before_training(tmp_path: Path) -> None:
    from ultralytics.data.utils import verify_image_label

    good = _tiff(tmp_path / "images/a.tif", np.zeros((16, 16, 3), np.uint8))
    bad = _tiff(tmp_path / "images/b.tif", np.random.rand(16, 16).astype(np.float32))
    # Ultralytics' own scan passes the float TIFF (training would crash at it later).
    assert (
        verify_image_label((str(bad), str(tmp_path / "none.txt"), "", False, 1, 0, 0, False))[8]
        == 0
    )
    with pytest.raises(UserError, match=r"1 image\(s\) cannot be decoded.*images/b\.tif"):
        image_check.refuse_undecodable(tmp_path, {"train": [good, bad], "val": [bad]})


def test_ordinary_images_pass(tmp_path: Path) -> None:
    images = [
        _tiff(tmp_path / "a.tif", np.zeros((16, 16), np.uint8)),
        _tiff(tmp_path / "b.tif", np.zeros((16, 16), np.uint16)),
        _tiff(tmp_path / "c.png", np.zeros((16, 16, 3), np.uint8)),
    ]
    image_check.refuse_undecodable(tmp_path, {"train": images})
    assert image_check.undecodable(images, channels=1) == []


def test_heic_without_pi_heif_is_refused_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    picture = tmp_path / "p.heic"
    picture.write_bytes(b"not decoded in this test")
    monkeypatch.setattr(image_check.importlib.util, "find_spec", lambda name: None)
    assert image_check.undecodable([picture]) == [
        f"{picture}: HEIC/HEIF needs pi-heif, which this training image lacks"
    ]


def test_a_heic_that_does_not_decode_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("pi_heif")
    picture = tmp_path / "p.heic"
    picture.write_bytes(b"\x00\x00\x00\x18ftypheic" + b"\x00" * 64)
    [problem] = image_check.undecodable([picture])
    assert "do not decode" in problem


def test_the_read_flags_are_opencvs() -> None:
    cv2 = pytest.importorskip("cv2")
    flags = [image_check._cv2_flag(c) for c in (1, 3, 4)]
    assert flags == [cv2.IMREAD_GRAYSCALE, cv2.IMREAD_COLOR, cv2.IMREAD_UNCHANGED]
