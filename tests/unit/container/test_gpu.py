"""A GPU host whose GPUs torch cannot use is refused before training, never trained on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest

from yolo_pipeline.container.errors import UserError
from yolo_pipeline.container.gpu import host_has_nvidia_driver, require_usable_gpus

pytestmark = pytest.mark.unit
DRIVER = "NVRM version: NVIDIA UNIX x86_64 Kernel Module  535.183.01  Sun May 12 19:39:15 UTC 2024"


def test_usable_or_cpu_only_hosts_pass() -> None:
    require_usable_gpus(True, "13.0", DRIVER)  # the GPUs work
    require_usable_gpus(False, "13.0", None)  # a CPU instance (ml.m5, local runs)


def test_gpus_torch_cannot_use_stop_the_job_with_the_fix() -> None:
    with pytest.raises(UserError) as caught:
        require_usable_gpus(False, "13.0", DRIVER)
    text = str(caught.value)
    assert "535.183.01" in text and "CUDA 13.0" in text and "instance_type" in text


def test_the_driver_line_is_read_bounded(tmp_path: Path) -> None:
    version = tmp_path / "version"
    assert host_has_nvidia_driver(version) is None
    version.write_text(DRIVER + "x" * 5000 + "\nGCC version: 12\n")
    line = host_has_nvidia_driver(version)
    assert line is not None and line.startswith("NVRM") and len(line) == 200
