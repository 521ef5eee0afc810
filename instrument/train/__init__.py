"""Training the style models: corpora, batches, the trainer, checkpoints, export with a card."""
from __future__ import annotations


class TrainingError(ValueError):
    """A run that cannot start, resume or export as asked; the message says why (the command line prints it)."""
