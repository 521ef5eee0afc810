"""The installed style models: each is NAME.safetensors with its card NAME.yaml beside it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..core.weights import ModelFileError, ModelWeights, read_weights
from ..base.files import FileProblem, read_yaml
from ..base.paths import models_dir


@dataclass
class ModelInfo:
    """One installed model and what its card says (an unreadable card is reported, not fatal)."""

    name: str
    path: Path
    card: dict = field(default_factory=dict)
    problem: str | None = None

    @property
    def arch(self) -> str:
        return str(self.card.get("arch", "?"))

    def _heldout(self, key: str) -> float | None:
        """A held-out figure of the card, if the card has it as a number (a hand-edited card may not)."""
        held = self.card.get("heldout")
        value = held.get(key) if isinstance(held, dict) else None
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None

    @property
    def heldout_bpc(self) -> float | None:
        return self._heldout("bpc")

    @property
    def xz_bpc(self) -> float | None:
        return self._heldout("xz_bpc")

    @property
    def played_bpc(self) -> float | None:
        """The held-out bpc of the style as it plays: its LSTM with its corpus memory and the copy
        model mixed in."""
        return self._heldout("played_bpc")

    @property
    def memory_bpc(self) -> float | None:
        return self._heldout("memory_bpc")

    @property
    def ppmd_bpc(self) -> float | None:
        return self._heldout("ppmd_bpc")

    @property
    def zpaq_bpc(self) -> float | None:
        return self._heldout("zpaq_bpc")

    @property
    def copy_table(self):
        """The card's copy weights (core/copying.py), or None when it has none. ValueError for a
        `copy:` section that is not well formed."""
        from ..core.copying import CopyTable

        return CopyTable.from_card(self.card["copy"]) if "copy" in self.card else None

    @property
    def size_mb(self) -> float:
        return self.path.stat().st_size / 1e6


def read_card(path: Path) -> tuple[dict, str | None]:
    """A card's contents, or an empty dict and the reason it could not be read."""
    if not path.exists():
        return {}, f"no model card {path.name}"
    try:
        card = read_yaml(path)
    except FileProblem as e:
        return {}, f"unreadable card: {e}"
    return (card, None) if isinstance(card, dict) else ({}, f"{path}: card is not a mapping")


def installed(folder: Path | None = None) -> list[ModelInfo]:
    """Every model in the folder, sorted by name."""
    folder = folder or models_dir()
    infos = []
    for weights in sorted(folder.glob("*.safetensors")):
        card, problem = read_card(weights.with_suffix(".yaml"))
        infos.append(ModelInfo(weights.stem, weights, card, problem))
    return infos


def installed_names(folder: Path | None = None, tell=None) -> list[str]:
    """Names of the usable installed styles, sorted; tell(message) hears of each one left out."""
    usable = []
    for m in installed(folder):
        if m.problem:
            if tell is not None:
                tell(f"style {m.name} left out: {m.problem}")
        else:
            usable.append(m.name)
    return usable


def resolve(name_or_path: str, folder: Path | None = None) -> Path:
    """A model name in the models folder, or a path to a .safetensors file."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".safetensors" or candidate.exists():
        return candidate
    path = (folder or models_dir()) / f"{name_or_path}.safetensors"
    if not path.exists():
        known = ", ".join(m.name for m in installed(folder)) or "none"
        raise ModelFileError(path, f"no model named '{name_or_path}' (installed: {known})")
    return path


def load(name_or_path: str, folder: Path | None = None) -> ModelWeights:
    """An installed model's weights, ready for an Ensemble (CharLSTM.from_weights makes a module)."""
    return read_weights(resolve(name_or_path, folder))
