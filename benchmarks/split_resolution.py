"""Split resolution benchmark: a data.yaml listing N missing folders against N files.

    .venv/bin/python benchmarks/split_resolution.py              # N = 2k, 5k, 20k
    .venv/bin/python benchmarks/split_resolution.py --n 20000

The red team's case: 20,000 missing folders vs 20,000 files took 289 s (quadratic: each
missing entry scanned the whole listing, twice). Resolution is now indexed (a folder set
and bisect on the sorted listing), so the time is linear in entries + files. Runs on an
in-memory storage (no disk, no S3), so it measures only the validator.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from yolo_pipeline.dataset.storage.base import FileInfo
from yolo_pipeline.dataset.validation import validate_dataset

T = TypeVar("T")


class MemoryStorage:
    uri = "memory://bench/"

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def list_files(self) -> list[FileInfo]:
        return [FileInfo(p, len(b)) for p, b in sorted(self.files.items())]

    def read_bytes(self, path: str, max_bytes: int | None = None) -> bytes:
        return self.files[path]

    def map_read(
        self, paths: Iterable[str], fn: Callable[[str, bytes], T], max_workers: int | None = None
    ) -> Iterator[tuple[str, T]]:
        for path in paths:
            yield path, fn(path, self.files[path])


def case(n: int) -> MemoryStorage:
    files = {f"images/train/{i:06d}.jpg": b"x" for i in range(n)}
    missing = "\n".join(f"  - missing/folder_{i:06d}" for i in range(n))
    files["data.yaml"] = f"train:\n{missing}\nval: images/train\nnames: [a]\n".encode()
    return MemoryStorage(files)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, action="append")
    sizes = parser.parse_args().n or [2000, 5000, 20000]
    print(f"{'N':>7} {'seconds':>8} {'errors':>7}")
    for n in sizes:
        storage = case(n)
        start = time.perf_counter()
        report = validate_dataset(storage)
        seconds = time.perf_counter() - start
        print(f"{n:>7} {seconds:>8.2f} {len(report.errors):>7}")


if __name__ == "__main__":
    main()
