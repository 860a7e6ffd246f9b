"""The dataset digest: the same content gives the same pin, whatever the order; any change
the job would train on gives another."""

from __future__ import annotations

import pytest

from yolo_pipeline.dataset.digest import (
    DigestEntry,
    crc32_fingerprint,
    dataset_digest,
    is_hashed,
    sha256_fingerprint,
)

pytestmark = pytest.mark.unit

BASE = [
    DigestEntry("data.yaml", 40, sha256_fingerprint(b"names: [a]\n")),
    DigestEntry("labels/train/1.txt", 20, sha256_fingerprint(b"0 0.5 0.5 0.1 0.1\n")),
    DigestEntry("images/train/1.jpg", 900),
]


def test_order_and_repeats_do_not_matter() -> None:
    assert dataset_digest(BASE) == dataset_digest([*reversed(BASE), BASE[0]])
    assert dataset_digest(BASE).startswith("v1:")


@pytest.mark.parametrize(
    "changed",
    [
        [
            *BASE[:1],
            DigestEntry("labels/train/1.txt", 20, sha256_fingerprint(b"7 0.5 0.5 0.1 0.1\n")),
            BASE[2],
        ],
        [*BASE[:2], DigestEntry("images/train/1.jpg", 901)],
        [*BASE, DigestEntry("images/train/2.jpg", 900)],
        BASE[:2],
        [DigestEntry("shapes.zip", 10, crc32_fingerprint(0x1234))],
    ],
)
def test_any_change_gives_another_digest(changed: list[DigestEntry]) -> None:
    assert dataset_digest(changed) != dataset_digest(BASE)


def test_which_files_are_hashed() -> None:
    assert is_hashed("data.yaml") and is_hashed("labels/a.TXT") and is_hashed("training.yml")
    assert not is_hashed("images/a.jpg") and not is_hashed("images/val/a.png")
    # Semantic masks and depth targets are labels: their content is pinned too.
    assert is_hashed("masks/val/a.png") and is_hashed("depth/train/a.png") and is_hashed("d/x.npy")
    assert crc32_fingerprint(-1) == "crc32:ffffffff"
