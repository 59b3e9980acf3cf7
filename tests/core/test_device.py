"""Device names: what 'auto' picks and the clear errors for devices this machine does not have."""

import pytest
import torch

from studio.core.device import available_devices, resolve_device
from studio.core.errors import StudioError


def test_cpu_and_auto_without_accelerators(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto") == resolve_device(None) == torch.device("cpu")
    assert available_devices() == ["auto", "cpu"]
    with pytest.raises(StudioError, match="no CUDA GPU is available"):
        resolve_device("cuda:0")
    with pytest.raises(StudioError, match="'mps'"):
        resolve_device("mps")
    with pytest.raises(StudioError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_a_cuda_index_past_the_last_gpu_is_refused(monkeypatch):
    # pretend this machine has two GPUs (nothing is allocated: resolve_device only names the device)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert resolve_device("cuda:1") == torch.device("cuda", 1)
    assert resolve_device("cuda") == torch.device("cuda")
    with pytest.raises(StudioError, match=r"'cuda:2'.*2 CUDA GPU\(s\) \(cuda:0 to cuda:1\)"):
        resolve_device("cuda:2")
    with pytest.raises(StudioError, match="unknown device 'cuda:x'"):
        resolve_device("cuda:x")
