"""Training the style models: corpora, batches, the trainer, checkpoints, export with a card."""
from __future__ import annotations


class TrainingError(ValueError):
    """A run that cannot start, resume or export as asked; the message says why (the command line prints it)."""


def check_name(name: str) -> str:
    """A style's name: it names files (NAME.safetensors, NAME.yaml, a run's folder), so it is a
    name and never a path (`--name ../../escaped` once wrote outside --out)."""
    import re

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", name or ""):
        raise TrainingError(f"--name {name[:70]!r}: a style's name is letters, digits, _ and - (up to 64), "
                            f"starting with a letter or digit")
    return name
