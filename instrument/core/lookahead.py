"""Foresight: the next character chosen by looking a few characters ahead (the paper's future work).

K candidate paths are kept D characters ahead of the text. Every step each path is extended by a
character drawn from its own proposal, all K paths stepping as one batched call (the ensemble's
rows); the best path's first pending character is committed, paths that disagree with it are
refilled with copies of those that agree, and every path drops the committed character. So the
text is written about D characters after it was first sampled, but a fader move throws the plan
away and re-plans from the committed text (the next characters are then chosen with a shorter
lookahead, which grows back by one character per step), so a move is heard at once.

How a path is judged, in linear mode, is a word-level mixture: every word (up to and including
the space or newline that ends it) is written by one style, P(text) = prod over words of
sum_i P(style i writes the word) P_i(word | all that came before), where P_i is style i at the
temperature, as it would write alone. With the paper's per-character mixture the styles take
turns inside words, which is how eight styles write non-words. A path's proposal samples that
model exactly: within a word, every style's tempered distribution in proportion to how likely it
is to be writing the word so far; at a word boundary the next word's writer is chosen.

The writer is a hidden state that carries over (a hidden Markov model over words): with
probability `phrase` the style that wrote the last word writes the next, else the next word's
style is drawn from the weights. Over many words each style still writes the share its weight
asks, but in phrases (about six words each among eight equal styles at phrase 0.8) rather than
word by word. A listener, and the presence controller, can then tell who is speaking: words
taken in turn by eight styles make windows that no specialist explains, the broadest English
model wins them, and at phrase 0 its share stayed at a quarter of the text whatever its fader
said. A move of the faders ends the phrase: the word in progress is weighed by the new weights
(its style finishes it only if no other can) and the next word's writer is drawn from them.

Sampled exactly, the word-level mixture is already most of the cure (88-90% real words at eight
and nine styles, against 66-67% for the per-character mixture). The lookahead's choice between
paths adds the rest: a path is chosen in proportion to P(path)^lambda, lambda = the linear rule's
foresight (core/mixing.py) times the mix's spread (1 - sum w_i^2), so paths that read as words
are preferred as far as the mix needs it. One style alone has no spread: every path is equally likely to be chosen, and the text
is exactly what that style writes with the plain sampler (choosing the likelier path regardless,
as an earlier rule did, made a soloist blander: distinct words 0.43 against 0.56).

Each path's draw is pushed off coining words as the plain sampler's is (core/words.py, /words), so
no path writes what the committed text could not.

In product mode a path's score is the sum of the log product-mixture probabilities of its
characters, and a path is chosen in proportion to its likelihood to the power of the mix's spread
(0.875 for eight equal styles; 0 for one style, which again writes as the plain sampler does).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .copying import Copier, carry_run
from .memory import Memory
from .floods import WHITESPACE, Floods, flood_guard
from .words import Words, keep_words
from .repeats import Repeats, guard
from .mixing import RULES, Rule, cap_confidence, logsumexp
from .sampling import TOTAL, push_down, shape_rows, softmax

BOUNDARY = WHITESPACE  # a word ends at a space, a tab or a newline
MAX_RUN = 32  # longest run of one character a path may write, indentation included (see _no_runaway)
MAX_GAP = 12  # longest run of spaces or tabs inside a line
_TINY = 1e-30


@dataclass(frozen=True)
class Plan:
    """What a plan was made for; a different one (a move, a new style, a new mode) re-plans."""

    active: tuple
    pi: tuple
    mode: str
    beams: int
    depth: int

    @property
    def rule(self) -> Rule:
        return RULES[self.mode]


@dataclass(frozen=True)
class Shaping:
    """How proposals are shaped before a draw (the same controls as the plain sampler)."""

    temperature: float = 0.8
    top_p: float = 1.0
    min_p: float = 0.0
    cap: float = 1.0  # each style's distribution capped at this probability (mixing.cap_confidence)
    phrase: float = 0.8  # linear mode: the chance that the style that wrote a word writes the next
    copy: float = 1.0  # the copy model's level (core/copying.py): each path copies from its own text
    memory: float = 1.0  # the corpus memory's level (core/memory.py): each path recalls after its own text
    loop_guard: float = 0.0  # how hard a path is pushed off a long repeat (core/repeats.py)
    flood_guard: float = 0.0  # how hard a path is pushed off a flood of spaces or of a few characters (core/floods.py)
    words: float = 0.0  # how hard a path is pushed off coining a word (core/words.py)


class Lookahead:
    """The paths, their pending characters and what each style made of them."""

    def __init__(self, ensemble, copier: Copier | None = None, memory: Memory | None = None,
                 repeats: Repeats | None = None, floods: Floods | None = None, words: Words | None = None):
        self.ensemble = ensemble
        self.copier = copier or Copier()  # none given: no style copies
        self.memory = memory or Memory.none(0)  # none given: no style remembers its corpus
        self.repeats = repeats or Repeats()  # the committed text's repeat (a stage the engine feeds)
        self.floods = floods or Floods()  # the committed text's floods (a stage the engine feeds)
        self.words = words or Words(self.memory.lexicons)  # the committed text's open word (a stage the engine feeds)
        self.plan: Plan | None = None
        self.shaped: tuple | None = None  # the temperature and copy level the pending paths were drawn at
        self.word = None  # (N,) log P_i of the committed part of the word being written (P_i tempered in linear mode)
        self.prior = None  # (N,) log P(style i writes the word being written), before its letters; None: the weights
        self.sticky = False  # whether the style writing the open word may go on to the next (not after a move)
        self.stale = False  # the paths were drawn with an old seed: plan again, the phrase goes on
        self.run = START  # the committed text's last run: (char, length, is indentation)
        self.committed: int | None = None  # the character next_char committed, until it is accepted
        # the K paths (made by _replan): their pending characters, log P_i of each (K, D, N), the
        # log of the mixture's probability of each (K, D; the product rule scores by it), each
        # path's next distributions (K, N, 128), and the copy model at each path's end
        self.chars = np.zeros((0, 0), dtype=np.int64)
        self.lp = np.zeros((0, 0, 0))
        self.mix_lp = np.zeros((0, 0))
        self.omega = np.zeros((0, 0, 128))
        self.copy_pred, self.copy_len, self.copy_run = (np.zeros(0, dtype=int) for _ in range(3))
        self.copy_level = 1.0  # the copy's level the paths are extended at (copy_after)

    def replan(self) -> None:
        """Plan again from the committed text (a new seed: the paths were drawn with the old one)."""
        self.stale = True

    def reset(self) -> None:
        """The styles forgot the text (/reset): the plan and the word in progress with it."""
        self.plan = None
        self.word = None
        self.prior, self.sticky = None, False

    def accept(self, x: int, heard=None) -> None:
        """The stage protocol (core/stages.py). A character the plan did not commit (plain
        sampling, a prime) means the plan no longer starts from the committed text; either way the
        text's last run goes on (a space after plain sampling's indentation is still indentation
        when lookahead comes back)."""
        if x != self.committed:
            self.reset()
        self.committed = None
        self.run = _extend_run(self.run, x)

    # --- one committed character ---------------------------------------------------------------
    def next_char(self, plan: Plan, weights: np.ndarray, trunk: np.ndarray, shaping: Shaping,
                  rng: np.random.Generator) -> tuple[int, int]:
        """(the next character, the style that leads it). weights: the active styles' weights
        (pi with any presence gains, summing to 1); trunk: their distributions after the committed
        text, (N, 128), the ones the committed character is scored by."""
        rule = plan.rule
        if rule.tempers_styles:  # each style as it would write alone at this temperature
            trunk = temper(trunk, shaping.temperature)
        # the pending paths were drawn at the old ones (a copy or memory level matters only if some
        # style copies or remembers)
        shaped = (shaping.temperature, shaping.copy if self.copier.copies else None,
                  shaping.memory if self.memory.remembers else None)
        if (plan != self.plan or shaped != self.shaped or self.stale or self.word is None
                or len(self.word) != len(plan.active)):
            self.shaped = shaped
            self._replan(plan, trunk)
        logw = np.log(np.maximum(weights, _TINY))
        if self.prior is None:
            self.prior = logw
        grow = 2 if self.chars.shape[1] < plan.depth - 1 else 1  # after a re-plan: back to depth
        for _ in range(grow):
            self._extend(logw, rule, shaping, rng)
        scores = rule.scores(self, logw, shaping.phrase)
        best = self._choose(scores * rule.sharpness(weights), rng)
        x = int(self.chars[best, 0])
        self._commit(x, best)
        lead = self._lead(trunk, x)
        self.word = self.word + np.log(np.maximum(trunk[:, x], _TINY))
        if BOUNDARY[x]:
            phrase = shaping.phrase if self.sticky and rule.keeps_phrases else 0.0
            self.prior = _next_prior(self.prior + self.word, logw, phrase)
            self.sticky = True
            self.word = np.zeros_like(self.word)
        self.committed = x
        return x, lead

    # --- the pieces ----------------------------------------------------------------------------
    def _replan(self, plan: Plan, trunk: np.ndarray) -> None:
        """Every path starts again from the committed text."""
        if self.word is None or self.plan is None or plan.active != self.plan.active:
            self.word = np.zeros(len(plan.active))
        if self.plan is None or (plan.active, plan.pi, plan.mode) != (self.plan.active, self.plan.pi, self.plan.mode):
            # a move is heard at once: the open word's style and the next word's are drawn from the
            # new weights (the open word may be finished by the style that began it, if no other
            # can). A new temperature, seed, depth or number of beams leaves the phrase alone: a
            # temperature sweep re-plans at every step, and would otherwise play word by word.
            self.prior, self.sticky = None, False
        self.plan, self.stale = plan, False
        K, N = plan.beams, len(plan.active)
        self.ensemble.fork(np.array(plan.active), K)
        self.memory.fork(np.array(plan.active), K)
        self.chars = np.zeros((K, 0), dtype=np.int64)
        self.lp = np.zeros((K, 0, N))
        self.mix_lp = np.zeros((K, 0))
        self.omega = np.repeat(trunk[None], K, axis=0)
        c = self.copier  # what the copy model predicts at the end of each path, and its run there
        self.copy_pred, self.copy_len, self.copy_run = (np.full(K, v) for v in (c.pred, c.length, c.run))

    def walk(self, logw: np.ndarray, phrase: float):
        """Each path's pending characters read word by word (the forward pass of the word-level
        mixture, whose hidden state is the writing style): (K,) log P of the path's finished words,
        (K, N) the log prior of the style writing its open word, and (K, N) log P_i of that word.
        The committed part of the first word counts in both, the same for every path."""
        K = len(self.chars)
        total = np.zeros(K)
        prior = np.repeat(self.prior[None], K, axis=0)
        stick = np.full((K, 1), phrase if self.sticky else 0.0)
        e = np.repeat(self.word[None], K, axis=0)
        for t in range(self.chars.shape[1]):
            e = e + self.lp[:, t]
            ends = BOUNDARY[self.chars[:, t]]
            if ends.any():
                joint = prior + e
                total += np.where(ends, logsumexp(joint), 0.0)
                prior = np.where(ends[:, None], _next_prior(joint, logw, stick), prior)
                stick = np.where(ends[:, None], phrase, stick)
                e = np.where(ends[:, None], 0.0, e)
        return total, prior, e

    def copy_after(self, mixed: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """(K, 128) each path's mixture with the copy model joined after it (Rule.copy_after)."""
        return self.copier.mix_after(mixed, np.array(self.plan.active), weights, self.copy_level, self.copy_pred,
                                     self.copy_len, self.copy_run)

    def _extend(self, logw: np.ndarray, rule: Rule, shaping: Shaping, rng: np.random.Generator) -> None:
        """Every path one character further, the K of them stepped as one batched call."""
        self.copy_level = shaping.copy
        mixed = self._no_runaway(rule.proposals(self, logw, shaping.phrase))
        if shaping.loop_guard > 0:  # each path pushed off the committed text's repeat, if it goes on with it
            mixed = guard(mixed, *self.repeats.along(self.chars), shaping.loop_guard)
        if shaping.flood_guard > 0:  # and off a flood of spaces or of a few characters
            mixed = flood_guard(mixed, *self.floods.along(self.chars), shaping.flood_guard)
        if shaping.words > 0:  # and off coining a word
            mixed = keep_words(mixed, [self.words.coins(self.plan.active, w) for w in self.words.along(self.chars)],
                               shaping.words)
        temperature = 1.0 if rule.tempers_styles else shaping.temperature  # else the styles are
        shaped = shape_rows(mixed, temperature, shaping.top_p, shaping.min_p)
        cdf = np.cumsum(shaped, axis=1)
        u = rng.random(len(cdf))[:, None] * cdf[:, -1:]
        x = np.minimum((cdf <= u).sum(axis=1), 127)
        rows = np.arange(len(x))
        self.lp = np.concatenate([self.lp, np.log(np.maximum(self.omega[rows, :, x], _TINY))[:, None]], axis=1)
        self.mix_lp = np.concatenate([self.mix_lp, np.log(np.maximum(mixed[rows, x], _TINY))[:, None]], axis=1)
        self.chars = np.concatenate([self.chars, x[:, None]], axis=1)
        active = np.array(self.plan.active)
        logits = self.ensemble.step_rows(active, x)  # (N, K, 128)
        self._follow_copy(x, shaping.copy)
        self.memory.step_rows(x)
        recalled = self.memory.mix_rows(softmax(logits.transpose(1, 0, 2)), active, shaping.memory, shaping.copy,
                                        self.copy_run)
        self.omega = cap_confidence(self._copied(recalled, shaping.copy, rule), shaping.cap)
        if rule.tempers_styles:
            self.omega = temper(self.omega, shaping.temperature)

    def _follow_copy(self, x: np.ndarray, level: float) -> None:
        """x, each path's newest character, carries its copy's run on, and the copy predicts what
        follows the path's text, as the committed text's copy does (the run tires the text memory
        too, core/memory.py)."""
        if not (self.copier.copies or self.memory.remembers) or level <= 0:
            return
        self.copy_run = carry_run(self.copy_run, x == self.copy_pred)
        for k in range(len(x)):
            self.copy_pred[k], self.copy_len[k] = self.copier.predict(self.chars[k].astype(np.uint8).tobytes())

    def _copied(self, omega: np.ndarray, level: float, rule: Rule) -> np.ndarray:
        """Each path's distributions (K, N, 128) with the copy model mixed in, as the committed
        text's are (the engine mixes those), unless the copy joins the rule's mixture after it
        (then the styles are left as they are: copy_after)."""
        if not self.copier.copies or level <= 0 or rule.copy_after:
            return omega
        return self.copier.mix(omega, np.array(self.plan.active), level, self.copy_pred, self.copy_len, self.copy_run)

    def _no_runaway(self, mixed: np.ndarray) -> np.ndarray:
        """A path whose last run of one character is MAX_RUN long (MAX_GAP for spaces inside a
        line) may not extend it. Choosing likely paths feeds a loop: a model that has written a
        run of dashes finds one more dash likelier still, and the likeliest path never breaks it.
        Beeton with Python (seed 3) wrote 1,400 spaces of "indentation" when indentation was
        exempt; at 32 its text is 45-58% spaces (plain sampling: 36%), and 0.7-1.7% of the Python
        and Emacs Lisp corpora's lines are indented deeper."""
        for k in range(len(mixed)):
            run = self.run
            for x in self.chars[k]:
                run = _extend_run(run, int(x))
            char, length, indent = run
            limit = MAX_GAP if char in (32, 9) and not indent else MAX_RUN
            if length >= limit:
                push_down(mixed[k], [char], TOTAL)
        return mixed

    @staticmethod
    def _choose(scores: np.ndarray, rng: np.random.Generator) -> int:
        """A path in proportion to exp(score). Always the likeliest (argmax) writes blander text,
        favouring the words every style shares (the distinct-word ratio fell by 0.02-0.05 in
        bench/quality.py) for no more real words."""
        p = np.exp(scores - scores.max())
        return int(min(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right"), len(p) - 1))

    def _commit(self, x: int, best: int) -> None:
        """Paths whose first character is not x are refilled from those whose first is (the best
        first); then every path lets its first character go."""
        keep = np.flatnonzero(self.chars[:, 0] == x)
        keep = np.concatenate([[best], keep[keep != best]])
        source = np.arange(len(self.chars))
        dead = np.flatnonzero(self.chars[:, 0] != x)
        source[dead] = keep[np.arange(len(dead)) % len(keep)]
        if len(dead):
            self.ensemble.take_rows(np.array(self.plan.active), source)
            self.memory.take_rows(source)
            self.chars, self.lp, self.mix_lp, self.omega = (a[source] for a in (self.chars, self.lp, self.mix_lp, self.omega))
            self.copy_pred, self.copy_len, self.copy_run = (a[source] for a in (self.copy_pred, self.copy_len, self.copy_run))
        self.chars, self.lp, self.mix_lp = self.chars[:, 1:], self.lp[:, 1:], self.mix_lp[:, 1:]

    def _lead(self, trunk: np.ndarray, x: int) -> int:
        """Index (into active) of the style most likely to be writing the word x belongs to."""
        return int(np.argmax(self.prior + self.word + np.log(np.maximum(trunk[:, x], _TINY))))


def _next_prior(joint: np.ndarray, logw: np.ndarray, phrase: float | np.ndarray) -> np.ndarray:
    """The log prior of the next word's style, from the joint log P(style, word) of the word just
    finished: the style that wrote it goes on with probability `phrase`, else the next word's style
    is drawn from the weights (so a style at weight 0 never comes back by itself)."""
    post = np.exp(joint - logsumexp(joint)[..., None])
    return np.log(np.maximum(phrase * post + (1 - phrase) * np.exp(logw), _TINY))


START = (10, 1, False)  # the text begins as if after a newline: its first spaces indent


def _extend_run(run: tuple, x: int) -> tuple:
    """(char, length, is indentation) of the last run once x is written after it. Only the first
    run after a newline indents: spaces after a tab (or a tab after spaces) count as a gap inside
    the line, which for the code corpora's alignment is under MAX_GAP."""
    char, length, indent = run
    if x == char:
        return char, length + 1, indent
    return x, 1, x in (32, 9) and char == 10  # spaces or tabs straight after a newline indent


def temper(omega: np.ndarray, temperature: float) -> np.ndarray:
    """Each row raised to 1/T and renormalised, in log space (a tiny T neither underflows nor
    divides by zero), as the plain sampler shapes a distribution."""
    z = np.log(np.maximum(omega, _TINY)) / max(temperature, 1e-3)
    z = np.exp(z - z.max(axis=-1, keepdims=True))
    return z / z.sum(axis=-1, keepdims=True)

