"""A GPU instance whose GPUs torch cannot use fails at once, instead of training on the CPU.

The image's torch is the lock's CUDA build; a host whose NVIDIA driver is older than that CUDA
needs makes ``torch.cuda.is_available()`` false, and Ultralytics would then train on the CPU,
tens of times slower, for up to MaxRuntime of GPU-instance billing.
"""

from __future__ import annotations

from pathlib import Path

from yolo_pipeline.container.errors import UserError

DRIVER_VERSION = Path("/proc/driver/nvidia/version")


def host_has_nvidia_driver(version_file: Path = DRIVER_VERSION) -> str | None:
    """The host's NVIDIA driver line (``NVRM version: ... 535.183.01 ...``), or None."""
    try:
        return version_file.read_text(encoding="ascii", errors="replace").splitlines()[0][:200]
    except (OSError, IndexError):
        return None


def require_usable_gpus(cuda_available: bool, torch_cuda: str | None, driver: str | None) -> None:
    """Raise when the host has NVIDIA GPUs that this torch cannot use."""
    if cuda_available or driver is None:
        return
    raise UserError(
        f"This instance has NVIDIA GPUs (driver: {driver}) but the image's torch (CUDA "
        f"{torch_cuda or 'unknown'}) cannot use them, so training would run on the CPU. "
        "Choose another GPU instance type in training.yaml (sagemaker: instance_type), or "
        "rebuild the image with a torch whose CUDA the host driver supports."
    )
