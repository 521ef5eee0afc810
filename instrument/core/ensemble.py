"""The ensemble: every loaded model reads the same characters; models of one architecture step
together in one batched call (see groups.py).

Models under the mix threshold are not stepped (the paper's optimisation). They are not left with
a stale state either: before such a model predicts again it catches up on the characters it
missed, in one sequence pass. Up to CATCH_UP characters are replayed exactly; after a longer
absence its state is rebuilt from the last CATCH_UP characters, which for these LSTMs gives the
same predictions to within noise (their memory is far shorter).
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from .groups import make_group
from .sampling import softmax
from .vocab import NEWLINE, VOCAB_SIZE
from .weights import ModelWeights

CATCH_UP = 512


class Ensemble:
    """N models, their hidden states, and the history they have (or should have) read."""

    def __init__(self, models: list, names: list[str], backend: str = "auto",
                 threads: int | None = None, precision: str = "int8"):
        """models: ModelWeights (as read_weights gives them) or CharLSTM modules."""
        if len(models) != len(names) or not models:
            raise ValueError("one name per model, at least one model")
        models = [m if isinstance(m, ModelWeights) else m.weights() for m in models]
        self.names = list(names)
        by_arch: dict[tuple, list[int]] = defaultdict(list)
        for i, m in enumerate(models):
            by_arch[(m.config.n_layers, m.config.hidden)].append(i)
        self.groups = []       # (group, global indices of its members)
        self.where = {}        # global index -> (group number, index inside the group)
        for members in by_arch.values():
            for k, i in enumerate(members):
                self.where[i] = (len(self.groups), k)
            self.groups.append((make_group([models[i] for i in members], backend, threads, precision), members))
        self.logits = np.zeros((len(models), VOCAB_SIZE), dtype=np.float32)
        self.reset()

    @property
    def n(self) -> int:
        return len(self.names)

    @property
    def computed(self) -> dict:
        """How the steps are computed: {"backend", "precision", "rows"} when every group agrees,
        else the first group's with "backend" "mixed" (a size the kernel cannot run went to torch)."""
        kinds = [g.computed for g, _ in self.groups]
        return dict(kinds[0]) if all(k == kinds[0] for k in kinds) else {**kinds[0], "backend": "mixed"}

    def reset(self) -> None:
        """Fresh states; every model reads a newline, the start of a text."""
        self.primed: list[int] = []   # primed characters not read yet (see accept)
        self.primed_active = np.arange(0)
        self.history = bytearray()
        self.position = 0                       # characters fed to the ensemble
        self.seen = np.zeros(self.n, dtype=np.int64)  # characters each model has read
        for group, members in self.groups:
            group.reset(np.arange(len(members)))
        self.feed([NEWLINE], np.arange(self.n))

    def feed(self, chars: list[int], active: np.ndarray) -> None:
        """The ensemble reads chars; the active models step now, the others later on demand."""
        active = np.asarray(active, dtype=np.int64)
        self._catch_up(active)
        self._run(active, np.asarray(chars, dtype=np.int32))
        self.history.extend(bytes(chars))
        if len(self.history) > 4 * CATCH_UP:
            del self.history[: len(self.history) - CATCH_UP]
        self.position += len(chars)
        self.seen[active] = self.position

    def accept(self, x: int, heard) -> None:
        """The stage protocol (core/stages.py): the models that played read x now, the others
        later on demand. Primed text is read in one sequence pass when it is next needed, and
        only its last CATCH_UP characters: these LSTMs remember far less than that, and a long
        prime must not stall a performance."""
        if heard.primed:
            self.primed.append(x)
            self.primed_active = heard.active
            return
        self._read_primed()
        self.feed([x], heard.active)

    def _read_primed(self) -> None:
        if self.primed:
            chars, self.primed = self.primed[-CATCH_UP:], []
            self.feed(chars, self.primed_active)

    def distributions(self, active: np.ndarray) -> np.ndarray:
        """Omega: each active model's next-character distribution, (len(active), 128)."""
        active = np.asarray(active, dtype=np.int64)
        self._read_primed()
        self._catch_up(active)
        return softmax(self.logits[active])

    def _catch_up(self, active: np.ndarray) -> None:
        """Models that missed characters read them first, one sequence pass per group and gap."""
        behind = [i for i in active if self.seen[i] < self.position]
        gaps: dict[int, list[int]] = defaultdict(list)
        for i in behind:
            gaps[int(self.position - self.seen[i])].append(i)
        for gap, models in gaps.items():
            if gap > CATCH_UP:
                self._reset_models(models)
            replay = np.frombuffer(bytes(self.history[-min(gap, CATCH_UP):]), dtype=np.uint8).astype(np.int32)
            self._run(np.array(models), replay)
            self.seen[models] = self.position

    def _run(self, models: np.ndarray, chars: np.ndarray) -> None:
        """Step the given models (global indices) through chars, grouped by architecture."""
        if len(models) == 0 or len(chars) == 0:
            return
        models = np.asarray(models, dtype=np.int64)
        for group, inner, positions in self._by_group(models):
            self.logits[models[positions]] = group.feed(inner, chars)

    # --- rows: the lookahead's candidate paths ------------------------------------------------
    def _by_group(self, models: np.ndarray):
        """(group, inner indices, positions in `models`) for each group the models fall in."""
        per_group: dict[int, list[int]] = defaultdict(list)
        for pos, i in enumerate(models):
            per_group[self.where[int(i)][0]].append(pos)
        for g, positions in per_group.items():
            inner = np.array([self.where[int(models[p])][1] for p in positions])
            yield self.groups[g][0], inner, np.array(positions)

    def fork(self, active: np.ndarray, rows: int) -> None:
        """`rows` copies of each active model's state after the text read so far."""
        active = np.asarray(active, dtype=np.int64)
        self._read_primed()
        self._catch_up(active)
        for group, inner, _ in self._by_group(active):
            group.fork(inner, rows)

    def step_rows(self, active: np.ndarray, chars: np.ndarray) -> np.ndarray:
        """Row r of every active model reads chars[r] (-1: it waits); logits (len(active), R, 128)."""
        active = np.asarray(active, dtype=np.int64)
        out = np.zeros((len(active), len(chars), VOCAB_SIZE), dtype=np.float32)
        for group, inner, positions in self._by_group(active):
            out[positions] = group.step_rows(inner, chars)
        return out

    def take_rows(self, active: np.ndarray, source: np.ndarray) -> None:
        """Row r of every active model becomes a copy of its row source[r]."""
        for group, inner, _ in self._by_group(np.asarray(active, dtype=np.int64)):
            group.take_rows(inner, np.asarray(source))

    def _reset_models(self, models: list[int]) -> None:
        for g, (group, members) in enumerate(self.groups):
            inner = [self.where[i][1] for i in models if self.where[i][0] == g]
            if inner:
                group.reset(np.array(inner))
