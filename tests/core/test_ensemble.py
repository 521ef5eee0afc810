"""The batched ensemble against plain CharLSTMs, on both backends."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from instrument.core.ensemble import CATCH_UP, Ensemble
from instrument.core.sampling import softmax
from instrument.core.groups import KernelGroup, kernel_available
from instrument.core.torch_group import TorchGroup
from instrument.core.model import CharLSTM, ModelConfig

BACKENDS = ["torch"] + (["kernel"] if kernel_available() else [])
needs_kernel = pytest.mark.skipif(not kernel_available(), reason="C kernel not built on this machine")


def _models(*archs: str) -> list[CharLSTM]:
    """Random models whose weights are exact in fp16, as shipped files are."""
    torch.manual_seed(1)
    return [CharLSTM(ModelConfig.from_arch(a, dropout=0.0)).half().float().eval() for a in archs]


def _weights(*archs: str):
    return [m.weights() for m in _models(*archs)]


def _reference(model: CharLSTM, text: bytes) -> np.ndarray:
    with torch.no_grad():
        logits, _ = model(torch.tensor(list(b"\n" + text)).view(-1, 1))
    return softmax(logits[-1, 0].numpy())


TEXT = b"It is a truth universally acknowledged, that a single man in possession"


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_model_predicts_as_it_would_alone(backend):
    models = _models("2x32", "2x32", "1x48")
    ens = Ensemble(models, ["a", "b", "c"], backend=backend, precision="fp16")
    ens.feed(list(TEXT), np.arange(3))
    omega = ens.distributions(np.arange(3))
    for i, m in enumerate(models):
        np.testing.assert_allclose(omega[i], _reference(m, TEXT), atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_skipped_model_catches_up_exactly(backend):
    models = _models("2x32", "2x32")
    skipping = Ensemble(models, ["a", "b"], backend=backend, precision="fp16")
    always = Ensemble(models, ["a", "b"], backend=backend, precision="fp16")
    for k, ch in enumerate(TEXT):
        skipping.feed([ch], np.array([0]) if 10 <= k < 40 else np.arange(2))  # b misses 30 chars
        always.feed([ch], np.arange(2))
    np.testing.assert_allclose(skipping.distributions(np.arange(2)), always.distributions(np.arange(2)), atol=1e-6)
    assert skipping.seen.tolist() == [skipping.position] * 2


@pytest.mark.slow
def test_a_long_absence_rebuilds_the_state_from_recent_text():
    models = _models("2x32", "2x32")
    skipping = Ensemble(models, ["a", "b"], backend="torch")
    always = Ensemble(models, ["a", "b"], backend="torch")
    text = (TEXT * 30)[: 3 * CATCH_UP]
    for ch in text:
        skipping.feed([ch], np.array([0]))
        always.feed([ch], np.arange(2))
    # b replays only the last CATCH_UP characters from a fresh state: the same to within noise
    np.testing.assert_allclose(skipping.distributions(np.array([1])), always.distributions(np.array([1])), atol=1e-4)


def test_models_of_different_shapes_form_groups():
    ens = Ensemble(_models("2x32", "1x48", "2x32"), ["a", "b", "c"], backend="torch")
    assert len(ens.groups) == 2 and sorted(len(m) for _, m in ens.groups) == [1, 2]


@pytest.mark.parametrize("backend", BACKENDS)
def test_reset_forgets(backend):
    models = _models("2x32")
    ens = Ensemble(models, ["a"], backend=backend, precision="fp16")
    fresh = ens.distributions(np.arange(1)).copy()
    ens.feed(list(TEXT), np.arange(1))
    assert not np.allclose(ens.distributions(np.arange(1)), fresh)
    ens.reset()
    np.testing.assert_allclose(ens.distributions(np.arange(1)), fresh, atol=1e-7)


@needs_kernel
def test_kernel_fp16_matches_torch_and_int8_stays_close():
    models = _weights("2x64", "2x64", "2x64")
    chars = np.frombuffer(TEXT, dtype=np.uint8).astype(np.int32)
    idx = np.array([0, 2])
    reference = TorchGroup(models).feed(idx, chars)
    np.testing.assert_allclose(KernelGroup(models, precision="fp16").feed(idx, chars), reference, atol=1e-5)
    int8 = KernelGroup(models, precision="int8").feed(idx, chars)
    assert np.abs(int8 - reference).max() < 0.02 and not np.array_equal(int8, reference)


@needs_kernel
def test_kernel_threads_agree():
    models = _weights("2x512", "2x512")  # big enough (~6 MB) that the kernel really splits the work
    chars = np.frombuffer(TEXT, dtype=np.uint8).astype(np.int32)
    one = KernelGroup(models, threads=1, precision="int8").feed(np.arange(2), chars)
    three = KernelGroup(models, threads=3, precision="int8").feed(np.arange(2), chars)
    np.testing.assert_allclose(one, three, atol=1e-6)


@needs_kernel
def test_kernel_refuses_bad_indices_instead_of_reading_past_the_weights():
    group = KernelGroup(_weights("1x32"), precision="fp16")
    with pytest.raises(ValueError, match="refused"):
        group.feed(np.array([3]), np.array([65]))
    with pytest.raises(ValueError, match="refused"):
        group.feed(np.array([0]), np.array([300]))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("precision", ["fp16", "int8"])
def test_rows_step_each_path_as_its_own_copy_of_the_ensemble_would(backend, precision):
    if backend == "torch" and precision == "int8":
        pytest.skip("the torch group has one precision")
    weights = _weights("2x32", "2x32", "1x48")
    ens = Ensemble(weights, ["a", "b", "c"], backend=backend, precision=precision)
    ens.feed(list(TEXT), np.arange(3))
    ens.fork(np.arange(3), rows=5)
    paths = [b"", b"ab", b" the", b"xy", b"q"]
    for t in range(4):  # row r reads paths[r][t] if it has one, else waits
        chars = np.array([p[t] if t < len(p) else -1 for p in paths])
        logits = ens.step_rows(np.arange(3), chars)
        for r, p in enumerate(paths):
            if t < len(p):
                alone = Ensemble(weights, ["a", "b", "c"], backend=backend, precision=precision)
                alone.feed(list(TEXT + p[: t + 1]), np.arange(3))
                np.testing.assert_allclose(logits[:, r], alone.logits, atol=2e-3 if precision == "int8" else 1e-4)
    ens.take_rows(np.arange(3), np.array([2, 2, 2, 3, 4]))  # rows 0-2 become copies of path " the"
    after = ens.step_rows(np.arange(3), np.array([ord("n")] * 5))
    np.testing.assert_array_equal(after[:, 0], after[:, 2])
    assert not np.allclose(after[:, 0], after[:, 3])


ROWS_CHECK = """
import numpy as np, torch
from instrument.core.ensemble import Ensemble
from instrument.core.model import CharLSTM, ModelConfig
torch.manual_seed(1)
weights = [CharLSTM(ModelConfig(2, 48, dropout=0.0)).half().float().eval().weights() for _ in range(2)]
for precision in ("int8", "fp16"):
    ens = Ensemble(weights, ["a", "b"], precision=precision)
    ens.feed(list(b"the cat "), np.arange(2))
    ens.fork(np.arange(2), 9)
    logits = ens.step_rows(np.arange(2), np.arange(97, 106))
    for r in range(9):
        alone = Ensemble(weights, ["a", "b"], precision=precision)
        alone.feed(list(b"the cat ") + [97 + r], np.arange(2))
        assert np.abs(logits[:, r] - alone.logits).max() < (2e-2 if precision == "int8" else 1e-4), (precision, r)
"""


@needs_kernel
@pytest.mark.parametrize("env", [{"INSTRUMENT_NO_VNNI": "1"}, {"INSTRUMENT_NO_VNNI": "1", "INSTRUMENT_NO_AVX512": "1"}],
                         ids=["avx512-fp32", "avx2"])
def test_the_rows_step_of_every_instruction_set_agrees(env):
    """The rows step has three inner loops (int8 x int8 on VNNI, fp32 with AVX-512, fp32 with
    AVX2); the in-process tests run whichever this CPU picks, these the others it can run."""
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", ROWS_CHECK], env={**os.environ, **env}, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_a_kernel_file_without_its_functions_falls_back_to_torch_with_a_reason(monkeypatch):
    """As an MSVC build that exports nothing would be: no crash at import, torch, and why."""
    import ctypes.util
    import importlib.util
    from types import SimpleNamespace

    from instrument.core import groups

    libc = ctypes.util.find_library("c")
    if libc is None:
        pytest.skip("no C library to stand in for a kernel without exports")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: SimpleNamespace(origin=libc))
    lib, why = groups._load_kernel()
    assert lib is None and "could not be loaded" in why and "ens_available" in why


def test_playing_without_the_kernel_says_so_once(tmp_path):
    import os
    import subprocess
    import sys

    from ..fakes import write_letter_models

    models = write_letter_models(tmp_path / "models", {"ayes": "a"})
    result = subprocess.run([sys.executable, "-m", "instrument", "play", "--chars", "50", "--rate", "0", "--no-midi",
                             "--no-oscquery", "--osc-listen", "127.0.0.1:0"], capture_output=True, text=True,
                            timeout=120, env={**os.environ, "INSTRUMENT_KERNEL": "torch", "INSTRUMENT_MODELS": str(models)})
    assert result.returncode == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "torch" in line]
    assert len(said) == 1 and "several times slower" in said[0] and "INSTRUMENT_KERNEL" in said[0]
