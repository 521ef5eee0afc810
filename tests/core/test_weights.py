"""Model files read as plain arrays, the engine's load path, which must not need torch."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

from instrument.core.weights import ModelFileError, read_weights
from instrument.app.library import installed_names


def test_read_weights_gives_the_modules_tensors(tiny_model, tiny_model_file):
    weights = read_weights(tiny_model_file)
    assert weights.config == tiny_model.config
    for name, tensor in tiny_model.state_dict().items():
        np.testing.assert_array_equal(weights.tensors[name], tensor.numpy())
        assert weights.tensors[name].dtype == np.float32


def test_a_bfloat16_file_is_refused_by_name(tiny_model, tmp_path):
    path = tmp_path / "bf16.safetensors"
    tiny_model.save(path, dtype=torch.bfloat16)
    with pytest.raises(ModelFileError, match="BF16 tensors.*save the model as fp16 or fp32"):
        read_weights(path)


def test_nan_weights_are_refused(tiny_model, tmp_path):
    path = tmp_path / "nan.safetensors"
    with torch.no_grad():
        tiny_model.head.bias[3] = float("nan")
    tiny_model.save(path)
    with pytest.raises(ModelFileError, match="head.bias holds NaN"):
        read_weights(path)


@pytest.mark.skipif(not installed_names(), reason="no shipped models")
def test_playing_the_shipped_models_never_imports_torch():
    """torch's import is two seconds of a cold start; the kernel path must not pay it."""
    code = ("import sys\n"
            "from instrument.core.groups import kernel_available\n"
            "from instrument.app.parts import build_engine\nfrom instrument.app.settings import EngineSettings\n"
            "engine = build_engine(EngineSettings())\n"
            "engine.step()\n"
            "print(kernel_available(), 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    kernel, torch_loaded = out.stdout.split()
    if kernel == "False":
        pytest.skip("C kernel not built: the torch fallback is in use")
    assert torch_loaded == "False"
