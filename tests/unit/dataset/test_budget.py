"""A check within a budget: label bytes, rows and time end it with one finding, never a hang."""

from __future__ import annotations

from pathlib import Path

from tests.support.dataset_factory import (
    box_row,
    data_yaml,
    detect_dataset,
    with_changes,
    write_local,
)
from tests.support.zip_factory import write_zip
from yolo_pipeline.dataset.budget import CheckBudget
from yolo_pipeline.dataset.labels import MAX_LABEL_ROWS_PER_FILE, check_label_file
from yolo_pipeline.dataset.storage.local import LocalStorage
from yolo_pipeline.dataset.storage.zip_storage import LocalZipFile, ZipStorage
from yolo_pipeline.dataset.validation import Report, validate_dataset


class FakeClock:
    """Advances one second per call: the deadline is reached after a known number of files."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def _folder(tmp_path: Path, files: dict[str, bytes], budget: CheckBudget | None) -> Report:
    return validate_dataset(LocalStorage(write_local(tmp_path / "ds", files)), budget=budget)


def _budget_errors(report: Report) -> list[str]:
    return [f.message for f in report.errors if "too costly" in f.message]


def test_no_budget_reads_everything(tmp_path: Path) -> None:
    report = _folder(tmp_path, detect_dataset(n_train=8, n_val=2), None)
    assert report.valid, report.render_text()
    assert report.stats.label_files_read == 10


def test_a_generous_budget_changes_nothing(tmp_path: Path) -> None:
    report = _folder(tmp_path, detect_dataset(n_train=8, n_val=2), CheckBudget.within(600))
    assert report.valid, report.render_text()


def test_label_bytes_over_the_budget_are_refused_before_reading(tmp_path: Path) -> None:
    report = _folder(tmp_path, detect_dataset(n_train=8, n_val=2), CheckBudget(max_label_bytes=50))
    assert not report.valid
    assert len(_budget_errors(report)) == 1
    assert report.stats.label_files_read == 0
    assert "split the label files" in report.errors[-1].hint


def test_rows_over_the_budget_stop_the_pass(tmp_path: Path) -> None:
    report = _folder(tmp_path, detect_dataset(n_train=8, n_val=2), CheckBudget(max_label_rows=3))
    assert not report.valid
    assert len(_budget_errors(report)) == 1
    assert "rows" in _budget_errors(report)[0]
    assert report.stats.label_files_read is not None and report.stats.label_files_read < 10


def test_the_deadline_stops_a_folder_and_says_upload_the_zip(tmp_path: Path) -> None:
    clock = FakeClock()
    budget = CheckBudget(deadline=4.0, clock=clock)
    report = _folder(tmp_path, detect_dataset(n_train=20, n_val=4), budget)
    assert not report.valid
    [message] = _budget_errors(report)
    assert "time ran out" in message
    assert "zip" in report.errors[-1].hint
    assert report.stats.label_files_read is not None and report.stats.label_files_read < 24


def test_the_deadline_stops_a_zip_and_says_split_it(tmp_path: Path) -> None:
    archive = write_zip(tmp_path / "ds.zip", detect_dataset(n_train=20, n_val=4))
    budget = CheckBudget(deadline=2.0, clock=FakeClock())
    report = validate_dataset(ZipStorage(LocalZipFile(archive)), budget=budget)
    assert not report.valid
    assert len(_budget_errors(report)) == 1
    assert "split the label files" in report.errors[-1].hint


def test_one_huge_label_file_is_cut_at_its_row_bound() -> None:
    rows = "\n".join(box_row(0, i) for i in range(MAX_LABEL_ROWS_PER_FILE + 10)) + "\n"
    result = check_label_file("labels/a.txt", rows.encode(), ["a"])
    assert result.rows == MAX_LABEL_ROWS_PER_FILE
    assert not result.ok
    assert "more than" in result.problems[0].message


def test_repeated_listings_are_counted_and_bounded(tmp_path: Path) -> None:
    # Ultralytics globs each entry: the train images are listed by both entries, and val's
    # by the first; every listing is trained.
    config = data_yaml(train=["images", "images/train"], val="images/val", names=list("abc"))
    twice = with_changes(detect_dataset(n_train=4, n_val=2), **{"data.yaml": config})
    report = _folder(tmp_path / "a", twice, None)
    assert report.stats.splits["train"].images == 4 * 2 + 2
    report = _folder(tmp_path / "b", twice, CheckBudget(max_split_images=5))
    assert not report.valid
    assert any("fewer list entries" in f.hint for f in report.errors)


def test_many_ancestors_of_a_deep_folder_stay_cheap(tmp_path: Path) -> None:
    depth = 60
    deep = "/".join(f"d{i}" for i in range(depth))
    files = detect_dataset(n_train=4, n_val=2)
    moved = {
        (f"{deep}/images/{k[len('images/') :]}" if k.startswith("images/train") else k): v
        for k, v in files.items()
    }
    moved.update(
        {
            (f"{deep}/labels/{k[len('labels/') :]}" if k.startswith("labels/train") else k): v
            for k, v in files.items()
            if k.startswith("labels/train")
        }
    )
    moved = {k: v for k, v in moved.items() if not k.startswith("labels/train")}
    ancestors = ["/".join(deep.split("/")[: i + 1]) for i in range(depth)]
    moved["data.yaml"] = data_yaml(train=ancestors, val="images/val", names=["a", "b", "c"])
    report = _folder(tmp_path, moved, None)
    assert report.valid, report.render_text()
    assert report.stats.splits["train"].images == 4 * depth
