import json
from dataclasses import asdict
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from instrument.core.model import CharLSTM, ModelConfig, ModelFileError


def test_save_then_load_gives_identical_logits(tiny_model, tmp_path):
    path = tmp_path / "m.safetensors"
    tiny_model.save(path, dtype=torch.float32)
    loaded = CharLSTM.load(path)
    x = torch.randint(0, 128, (50, 3))
    assert loaded.config == tiny_model.config
    torch.testing.assert_close(loaded(x)[0], tiny_model(x)[0], rtol=0, atol=0)


def test_fp16_file_is_half_the_size_and_close(tiny_model, tmp_path):
    full, half = tmp_path / "f32.safetensors", tmp_path / "f16.safetensors"
    tiny_model.save(full, dtype=torch.float32)
    tiny_model.save(half, dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    x = torch.randint(0, 128, (20, 1))
    torch.testing.assert_close(CharLSTM.load(half)(x)[0], tiny_model(x)[0], rtol=0, atol=2e-2)


def test_step_equals_sequence_forward(tiny_model):
    x = torch.randint(0, 128, (12, 2))
    seq_logits, seq_state = tiny_model(x)
    state = None
    for t in range(12):
        logits, state = tiny_model.step(x[t], state)
    torch.testing.assert_close(logits, seq_logits[-1])
    torch.testing.assert_close(state[0], seq_state[0])


def test_arch_parsing():
    assert ModelConfig.from_arch("3x256").arch == "3x256"
    with pytest.raises(ValueError, match="LAYERSxUNITS"):
        ModelConfig.from_arch("big")


def _expect_error(path: Path, fragment: str) -> None:
    with pytest.raises(ModelFileError) as info:
        CharLSTM.load(path)
    assert str(path) in str(info.value) and fragment in str(info.value)


def test_truncated_file_is_named_and_explained(tiny_model_file):
    data = tiny_model_file.read_bytes()
    tiny_model_file.write_bytes(data[: len(data) // 2])
    _expect_error(tiny_model_file, "truncated")


def test_file_that_is_not_safetensors(tmp_path):
    path = tmp_path / "notes.safetensors"
    path.write_text("these are not weights")
    _expect_error(path, "not a readable safetensors file")


def test_missing_file(tmp_path):
    _expect_error(tmp_path / "gone.safetensors", "no such file")


def test_other_vocabulary_size(tmp_path):
    path = tmp_path / "v256.safetensors"
    config = {"n_layers": 1, "hidden": 8, "vocab_size": 256, "dropout": 0.0}
    save_file({"head.bias": torch.zeros(256)}, str(path), metadata={"instrument.config": json.dumps(config)})
    _expect_error(path, "vocabulary size 256")


def test_tensors_that_do_not_match_the_config(tiny_model, tmp_path):
    path = tmp_path / "lies.safetensors"
    tensors = {k: v.contiguous() for k, v in tiny_model.state_dict().items()}
    config = {"n_layers": 2, "hidden": 64, "vocab_size": 128, "dropout": 0.0}  # the tensors are 2x32
    save_file(tensors, str(path), metadata={"instrument.config": json.dumps(config)})
    _expect_error(path, "shape")


def test_file_without_a_config(tiny_model, tmp_path):
    path = tmp_path / "bare.safetensors"
    save_file({k: v.contiguous() for k, v in tiny_model.state_dict().items()}, str(path))
    _expect_error(path, "not an instrument model")


def test_nan_weights_are_refused(tiny_model, tmp_path):
    path = tmp_path / "nan.safetensors"
    with torch.no_grad():
        tiny_model.head.bias[3] = float("nan")
    tiny_model.save(path, dtype=torch.float32)
    _expect_error(path, "NaN")


def test_a_failed_load_leaves_a_good_model_untouched(tiny_model, tmp_path):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 100)
    with pytest.raises(ModelFileError):
        CharLSTM.load(bad)
    for k, v in tiny_model.state_dict().items():
        assert torch.equal(v, before[k])


def _with_config(tmp_path, tiny_model, config, name="odd.safetensors") -> Path:
    path = tmp_path / name
    tensors = {k: v.detach().contiguous() for k, v in tiny_model.state_dict().items()}
    meta = {"instrument.config": config if isinstance(config, str) else json.dumps(config)}
    save_file(tensors, str(path), metadata=meta)
    return path


@pytest.mark.parametrize("config, fragment", [
    ({"n_layers": 0, "hidden": 16}, "n_layers is 0"),
    ({"n_layers": 1, "hidden": 512.0}, "hidden is 512.0"),
    ({"n_layers": "2", "hidden": 16}, "n_layers is '2'"),
    ({"n_layers": True, "hidden": 16}, "n_layers is True"),
    ("[1, 2, 3]", "a list, not a mapping"),
    ("{not json", "not JSON"),
])
def test_config_metadata_of_the_wrong_type_or_range_is_named(tmp_path, tiny_model, config, fragment):
    _expect_error(_with_config(tmp_path, tiny_model, config), fragment)


def test_an_unneeded_tensor_is_refused_before_anything_is_read(tmp_path, tiny_model):
    path = tmp_path / "padded.safetensors"
    tensors = {k: v.detach().contiguous() for k, v in tiny_model.state_dict().items()}
    tensors["payload"] = torch.zeros(4_000_000)  # 16 MB the model does not need (1.6 GB in the report)
    save_file(tensors, str(path), metadata={"instrument.config": json.dumps(asdict(tiny_model.config))})
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _expect_error(path, "unexpected ['payload']")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 8_000  # kB: the payload was never read


def test_float64_weights_past_float32s_range_are_refused(tmp_path, tiny_model):
    path = tmp_path / "wide.safetensors"
    tensors = {k: v.detach().double().contiguous() for k, v in tiny_model.state_dict().items()}
    tensors["head.bias"][0] = 1e300  # finite as float64, inf as the float32 the engine computes in
    save_file(tensors, str(path), metadata={"instrument.config": json.dumps(asdict(tiny_model.config))})
    _expect_error(path, "past float32's range")
