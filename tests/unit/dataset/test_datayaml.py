"""data.yaml parsing: safety (size, aliases, download), Ultralytics semantics, fuzzing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yolo_pipeline.dataset.data_yaml import (
    MAX_DATA_YAML_BYTES,
    DataYaml,
    parse_data_yaml,
    sanitized_data_yaml,
)

GOOD = "train: images/train\nval: images/val\nnames: [cat, dog]\n"


def messages(parsed: object, severity: str = "error") -> str:
    return "\n".join(str(f) for f in parsed.findings if f.severity == severity)  # type: ignore[attr-defined]


def test_good_file_parses() -> None:
    parsed = parse_data_yaml(GOOD)
    assert parsed.findings == []
    assert parsed.config == DataYaml(
        names=["cat", "dog"], splits={"train": ["images/train"], "val": ["images/val"]}
    )
    assert parsed.config.nc == 2


def test_alias_bomb_is_rejected_fast() -> None:
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    bomb = "\n".join(levels) + "\n" + GOOD
    start = time.perf_counter()
    parsed = parse_data_yaml(bomb.encode())
    elapsed = time.perf_counter() - start
    assert parsed.config is None
    assert "anchor" in messages(parsed)
    assert parsed.findings[0].line == 1
    assert elapsed < 1.0


def test_alias_alone_is_rejected() -> None:
    parsed = parse_data_yaml(GOOD + "test: *nothing\n")
    assert parsed.config is None
    assert "alias" in messages(parsed)


def test_download_key_is_an_error_and_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    parsed = parse_data_yaml(
        GOOD + f"download: |\n  import pathlib; pathlib.Path('{marker}').touch()\n"
    )
    assert parsed.config is None
    (finding,) = [f for f in parsed.findings if f.field == "download"]
    assert "execute" in finding.message
    assert finding.line == 4
    assert not marker.exists()


def test_oversized_file_rejected_before_parsing() -> None:
    big = GOOD.encode() + b"#" * MAX_DATA_YAML_BYTES
    parsed = parse_data_yaml(big)
    assert parsed.config is None
    assert "limit" in messages(parsed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n- b\n", "must be a mapping"),
        ("", "it is empty"),
        ("train: [unclosed\n", "not valid YAML"),
        ("train: images/train\n\tval: x\n", "tabs"),
        (b"\xff\xfe garbage", "not UTF-8"),
        ("!!python/object/apply:os.system ['true']\n", "not valid YAML"),
        ("val: images/val\nnames: [a]\n", "train: is required"),
        ("train: images/train\nnames: [a]\n", "val: is required"),
        ("train: a\nval: b\n", "names: is required"),
        ("train: a\nval: b\nnames: []\n", "empty list"),
        ("train: a\nval: b\nnames: {0: a, 2: c}\n", "missing id(s) 1"),
        ("train: a\nval: b\nnames: {x: a}\n", "not a class id"),
        ("train: a\nval: b\nnames: cat\n", "must be a list or a mapping"),
        ("train: a\nval: b\nnames: [a, b]\nnc: 3\n", "set nc: 2"),
        ("train: a\nval: b\nnc: lots\n", "not an integer"),
        ("train: a\nval: b\nnc: 0\n", "at least one class"),
        ("train: 5\nval: b\nnames: [a]\n", "must be a path"),
        ("train: [a, 5]\nval: b\nnames: [a]\n", "not a path"),
        ("train: C:\\data\\train\nval: b\nnames: [a]\n", "absolute path"),
        ("train: images\\train\nval: b\nnames: [a]\n", "'images/train'"),
        ("train: /data/train\nval: b\nnames: [a]\n", "absolute path"),
        ("train: https://x.io/t.zip\nval: b\nnames: [a]\n", "is a URL"),
        ("train: s3://other/train\nval: b\nnames: [a]\n", "is a URL"),
        ("train: ../../secrets\nval: b\nnames: [a]\n", "outside the dataset"),
        ("train: [../train/images]\nval: b\nnames: [a]\n", "outside the dataset"),
        ("train: images/../../x\nval: b\nnames: [a]\n", "outside the dataset"),
    ],
)
def test_bad_files_name_the_problem(text: str | bytes, expected: str) -> None:
    parsed = parse_data_yaml(text)
    assert parsed.config is None
    assert expected in messages(parsed)


def test_roboflow_export_uses_the_dotdot_fallback() -> None:
    text = (
        "train: ../train/images\nval: ../valid/images\ntest: ../test/images\n\nnc: 2\n"
        "names: ['a', 'b']\n\nroboflow:\n  workspace: w\n  project: p\n  version: 3\n"
        "  license: CC BY 4.0\n  url: https://universe.roboflow.com/w/p/dataset/3\n"
    )
    parsed = parse_data_yaml(text)
    assert parsed.config is not None
    assert parsed.config.splits == {
        "train": ["train/images"],
        "val": ["valid/images"],
        "test": ["test/images"],
    }
    assert "roboflow" in parsed.config.extras
    assert [f.field for f in parsed.findings] == ["roboflow"]
    assert all(f.severity == "warning" for f in parsed.findings)


def test_validation_key_is_renamed_and_path_is_ignored_with_warning() -> None:
    parsed = parse_data_yaml("path: ../datasets/coco8\ntrain: a\nvalidation: b\nnames: {0: x}\n")
    assert parsed.config is not None
    assert parsed.config.splits["val"] == ["b"]
    warnings = messages(parsed, "warning")
    assert "is ignored: the dataset root is the folder" in warnings
    assert parsed.findings[0].line == 1


def test_path_dot_is_silent_and_names_dict_with_string_keys() -> None:
    parsed = parse_data_yaml("path: .\ntrain: a\nval: [b, c]\nnames: {'0': x, '1': y}\nnc: 2.0\n")
    assert parsed.findings == []
    assert parsed.config is not None
    assert parsed.config.names == ["x", "y"]
    assert parsed.config.splits["val"] == ["b", "c"]


def test_unknown_and_extra_keys_are_warnings() -> None:
    parsed = parse_data_yaml(GOOD + "kpt_shape: [2, 3]\nflip_idx: [1, 0]\nfoo: 1\nlicense: x\n")
    assert parsed.config is not None
    assert parsed.config.extras == {"kpt_shape": [2, 3], "flip_idx": [1, 0], "license": "x"}
    by_field = {f.field: f for f in parsed.findings}
    assert by_field["foo"].severity == "warning" and by_field["foo"].line == 6
    assert by_field["license"].severity == "warning"
    assert "kpt_shape" not in by_field and "flip_idx" not in by_field  # checked, so no note


def test_nc_only_generates_names_with_warning() -> None:
    parsed = parse_data_yaml("train: a\nval: b\nnc: 3\n")
    assert parsed.config is not None
    assert parsed.config.names == ["class_0", "class_1", "class_2"]
    assert "names: is missing" in messages(parsed, "warning")


def test_hundreds_of_classes_and_bom_are_fine() -> None:
    names = [f"class name {i}" for i in range(600)]
    text = "\ufeff" + yaml.safe_dump({"train": "a", "val": "b", "names": names})
    parsed = parse_data_yaml(text.encode("utf-8"))
    assert parsed.findings == []
    assert parsed.config is not None and parsed.config.nc == 600


def test_sanitized_yaml_has_only_known_keys() -> None:
    parsed = parse_data_yaml(
        "train: ../train/images\nval: [v1, v2]\nnames: [a, b]\nchannels: 3\nroboflow: {x: 1}\n"
    )
    assert parsed.config is not None
    clean = sanitized_data_yaml(parsed.config, "/opt/ml/input/data/training")
    assert clean == {
        "path": "/opt/ml/input/data/training",
        "train": "train/images",
        "val": ["v1", "v2"],
        "nc": 2,
        "names": {0: "a", 1: "b"},
        "channels": 3,
    }
    assert "download" not in clean


def test_sanitized_yaml_is_accepted_by_ultralytics(tmp_path: Path) -> None:
    pytest.importorskip("ultralytics")
    from ultralytics.data.utils import check_det_dataset

    for split in ("images/train", "images/val"):
        (tmp_path / split).mkdir(parents=True)
    parsed = parse_data_yaml(GOOD)
    assert parsed.config is not None
    target = tmp_path / "clean.yaml"
    target.write_text(yaml.safe_dump(sanitized_data_yaml(parsed.config, str(tmp_path))))
    data = check_det_dataset(str(target), autodownload=False)
    assert data["nc"] == 2
    assert data["names"] == {0: "cat", 1: "dog"}
    assert data["val"] == str(tmp_path / "images/val")


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
keys = st.sampled_from(
    ["train", "val", "validation", "test", "names", "nc", "path", "download", "kpt_shape", "x"]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(keys, yaml_values, max_size=7))
def test_fuzz_structured_documents_never_raise(doc: dict[str, object]) -> None:
    text = yaml.safe_dump(doc)
    parsed = parse_data_yaml(text)
    assert parsed.config is not None or any(f.severity == "error" for f in parsed.findings)
    if parsed.config is not None:
        assert parsed.config.splits.keys() >= {"train", "val"}
        assert all(
            not p.startswith(("/", "..")) for ps in parsed.config.splits.values() for p in ps
        )


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.text(max_size=300))
def test_fuzz_arbitrary_bytes_never_raise(content: bytes | str) -> None:
    parsed = parse_data_yaml(content)
    assert parsed.config is not None or parsed.findings
