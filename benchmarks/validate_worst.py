"""The worst upload per byte the validator accepts, and where its bounds refuse it.

    .venv/bin/python benchmarks/validate_worst.py            # every case, a few minutes
    .venv/bin/python benchmarks/validate_worst.py --files 16 # smaller and faster

A label file of one repeated row deflates about 400-fold, and the zip reader's ratio
limit only applies to entries over 1 MiB, so a zip of 1 MiB label files is the costliest
upload per byte: each file costs the rows it holds, and the archive costs almost nothing to
send. The folder's worst is many files (one read each). Each case runs in a child process
so its peak memory (ru_maxrss) is its own. Prints, per case: the upload's bytes, the label
bytes it declares, the rows parsed, the check's time and peak memory, and the verdict with
the bound that ended it. The last lines extrapolate the measured row rate to the budget's
bounds (``dataset.budget``), which is what one launcher check may cost at most.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from yolo_pipeline.dataset.budget import MAX_LABEL_BYTES, MAX_LABEL_ROWS, CheckBudget
from yolo_pipeline.dataset.labels import MAX_LABEL_ROWS_PER_FILE
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.zip_reader import DEFAULT_LIMITS
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile, ZipStorage
from yolo_pipeline.dataset.validation import validate_dataset

ROW = "0 0.500 0.500 0.100 0.200\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 60 + b"\xff\xd9"
DATA_YAML = "train: images/train\nval: images/val\nnames: [a]\n"


def _files(n: int, rows: int) -> dict[str, bytes]:
    body = (ROW * rows).encode()
    files = {"data.yaml": DATA_YAML.encode()}
    for split, count in (("train", n), ("val", 1)):
        for i in range(count):
            files[f"images/{split}/{i:06d}.jpg"] = JPEG
            files[f"labels/{split}/{i:06d}.txt"] = body
    return files


def build(kind: str, where: Path, n: int, rows: int) -> Path:
    files = _files(n, rows)
    if kind == "zip":
        path = where / "worst.zip"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for name, data in files.items():
                zf.writestr(name, data)
        return path
    root = where / "worst"
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def one(kind: str, n: int, rows: int, seconds: float | None) -> dict[str, object]:
    """Build one upload, check it once, return the figures (runs in a child process)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = build(kind, Path(tmp), n, rows)
        size = (
            path.stat().st_size
            if kind == "zip"
            else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        )
        storage = ZipStorage(LocalZipFile(path)) if kind == "zip" else LocalStorage(path)
        budget = CheckBudget.within(seconds) if seconds is not None else CheckBudget()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        report = validate_dataset(storage, budget=budget)
        elapsed = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    first = report.errors[0].message[:90] if report.errors else ""
    return {
        "upload_mib": size / 2**20,
        "label_mib": (n + 1) * len(ROW) * rows / 2**20,
        "rows": min(rows, MAX_LABEL_ROWS_PER_FILE) * (n + 1),
        "seconds": elapsed,
        "peak_mib": peak / 1024,
        "peak_delta_mib": (peak - before) / 1024,
        "valid": report.valid,
        "why": first,
    }


def _child(kind: str, n: int, rows: int, seconds: float | None) -> dict[str, object]:
    args = [sys.executable, __file__, "--one", kind, str(n), str(rows), str(seconds or "")]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=48, help="label files per case")
    parser.add_argument("--one", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        kind, n, rows, seconds = args.one
        print(json.dumps(one(kind, int(n), int(rows), float(seconds) if seconds else None)))
        return
    # Entries up to the ratio floor (1 MiB) may compress any amount: the worst per byte.
    under = DEFAULT_LIMITS.ratio_floor // len(ROW)
    over_bytes = MAX_LABEL_BYTES // (under * len(ROW)) + 1
    cases = [
        ("zip, 1 MiB label files (no ratio limit)", "zip", args.files, under, None),
        ("zip, 1.5 MiB label files (ratio limit)", "zip", args.files, under * 3 // 2, None),
        ("zip, 1 MiB files, 2 s left in the Lambda", "zip", args.files * 4, under, 2.0),
        (f"zip, {over_bytes:,} files of 1 MiB (label bytes)", "zip", over_bytes, under, None),
        ("folder, 1 MiB label files", "folder", args.files, under, None),
        ("folder, 5,000 one-row label files", "folder", 5000, 1, None),
    ]
    print(f"{'case':48} {'upload':>9} {'labels':>9} {'rows':>10} {'time':>7} {'peak':>8}  verdict")
    rate = 0.0
    for title, kind, n, rows, seconds in cases:
        r = _child(kind, n, rows, seconds)
        if kind == "zip" and seconds is None and r["valid"]:
            rate = float(r["rows"]) / float(r["seconds"])  # type: ignore[arg-type]
        verdict = "valid" if r["valid"] else f"refused: {r['why']}"
        print(
            f"{title:48} {r['upload_mib']:>7.2f}Mi {r['label_mib']:>7.1f}Mi {r['rows']:>10,} "
            f"{r['seconds']:>6.1f}s {r['peak_mib']:>6.0f}Mi  {verdict}"
        )
    if rate:
        print(f"\nrow rate (zip, this machine): {rate:,.0f} rows/s")
        print(
            f"bounds: {MAX_LABEL_ROWS:,} rows -> at most {MAX_LABEL_ROWS / rate:,.0f} s of "
            f"label parsing; {MAX_LABEL_BYTES / 2**30:.0f} GiB of label bytes is refused from "
            "the listing, before a byte is read; the Lambda's remaining time ends any check "
            "first (one finding, never a timeout)"
        )


if __name__ == "__main__":
    main()
