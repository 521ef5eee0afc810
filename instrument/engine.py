"""The engine: one loop that owns the models and their states.

Every step: read one snapshot of the parameters -> Omega = the active models' distributions ->
rho = mix(pi, Omega) -> sample a character -> feed it back -> publish a Frame. Without lookahead, a
move of the mix that arrived meanwhile is taken just before mixing (see _late_moves); with it, the
move re-plans at the next step (core/lookahead.py). Controls only write
parameters; outputs only read frames from their own bounded subscription, so neither can slow it.
"""
from __future__ import annotations

import logging
import threading
import time

import numpy as np

from .core.copying import Copier
from .core.ensemble import Ensemble
from .core.lookahead import Lookahead, Plan, Shaping
from .core.memory import Memory
from .core.mixing import RULES, active_models, cap_confidence
from .core.presence import Presence
from .core.floods import Floods, flood_guard
from .core.words import Words, keep_words
from .core.repeats import Repeats, guard
from .core.sampling import draw, shape_distribution
from .core.stages import Heard
from .core.vocab import encode
from .frames import Frame, Subscription
from .base.pacing import Pacer
from .params import ParamTree, Snapshot
from .base.ratelog import RateLimitedLog
from .tree import build_tree

log = logging.getLogger("instrument.engine")
PRIME_PATIENCE = 40  # characters a prime waits for a word to end before it lands inside it anyway


class Engine:
    """The loop. `step()` does one step (tests call it directly); `start()` runs it on a thread."""

    def __init__(self, ensemble: Ensemble, params: ParamTree | None = None, copier: Copier | None = None,
                 memory: Memory | None = None):
        """copier: the styles' copy weights (from their cards; none given: no style copies);
        memory: their memories of their corpora and of the text (core/memory.py; none given: no
        style remembers)."""
        self.ensemble = ensemble
        self.copier = copier or Copier(n_styles=ensemble.n)
        self.memory = memory or Memory.none(ensemble.n)
        self.names = ensemble.names
        self.params = params if params is not None else build_tree(self.names)
        self._subscribers: list[Subscription] = []
        self._observed: int | None = None  # the version of the last snapshot handed to readers
        self._seen_writes: dict[str, int] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by a stop or a new /rate: the pacer's wait ends
        self.params.add_listener(self._rate_moved)
        self.failure: BaseException | None = None  # what ended the loop, if a fault did
        self._faults = RateLimitedLog(log, "failed steps")
        self._slow = RateLimitedLog(log, "slow characters", interval=30.0)
        self._slow_in_a_row = 0
        self.steps = 0
        self.last = " "  # the last character written: a prime waits for it to end a word
        self.waiting: tuple[str, int] | None = None  # a prime waiting for the word to end, and since which step
        self.rng = np.random.default_rng(self.params.get("/seed"))
        self._mixing = set(self.params.tagged("mixing"))  # what a step may take late (the mix, T, ...)
        self.repeats, self.floods, self.words = Repeats(), Floods(), Words(self.memory.lexicons)
        self.lookahead = Lookahead(ensemble, self.copier, self.memory, self.repeats, self.floods, self.words)
        self.presence = Presence(ensemble.n)
        # all the state the next character depends on, besides self.rng (core/stages.py)
        self.stages = (self.ensemble, self.memory, self.copier, self.lookahead, self.presence, self.repeats,
                       self.floods, self.words)
        self._apply_events(self.params.snapshot())

    # --- outputs -----------------------------------------------------------------------------
    def subscribe(self, maxlen: int = 64, snapshots: bool = False) -> Subscription:
        """A reader's subscription; with snapshots it is also handed each snapshot a step uses
        that differs from the last (the first step after subscribing hands the whole state)."""
        sub = Subscription(maxlen, snapshots)
        self._subscribers = [*self._subscribers, sub]  # copy on write: the loop never locks
        if snapshots:
            self._observed = None
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers = [s for s in self._subscribers if s is not sub]
        sub.close()

    def _publish(self, frame: Frame) -> None:
        for sub in self._subscribers:
            sub.push(frame)

    # --- one step ----------------------------------------------------------------------------
    def _fired(self, snap: Snapshot, address: str) -> bool:
        """Whether the address was written since the engine last looked."""
        count = snap.writes[address]
        fired = count != self._seen_writes.get(address, 0)
        self._seen_writes[address] = count
        return fired

    def _apply_events(self, snap: Snapshot) -> None:
        """Seed, reset and prime: writes that are events, applied in that order."""
        if self._fired(snap, "/seed"):
            self.rng = np.random.default_rng(snap["/seed"])
            self.lookahead.replan()
        if self._fired(snap, "/reset"):
            for stage in self.stages:
                stage.reset()
        if self._fired(snap, "/prime") and snap["/prime"]:
            self.waiting = (snap["/prime"], self.steps)  # a newer prime replaces one still waiting
        if self.waiting is not None and self._prime_due(snap):
            text, self.waiting = self.waiting[0], None
            self.prime(text, snap)

    def _prime_due(self, snap: Snapshot) -> bool:
        """A prime lands between words, never inside one ("whichAMEN AMEN."): once the text ends
        a word, or after PRIME_PATIENCE characters of a word that does not end (a run of code)."""
        return (snap["/prime_at"] == "now" or self.last in " \t\n"
                or self.steps - self.waiting[1] >= PRIME_PATIENCE)

    def prime(self, text: str, snap: Snapshot | None = None) -> None:
        """Every style reads text as if it had written it; the text is published as primed.
        (The ensemble reads only its last CATCH_UP characters, and the memory its last DEPTH: a
        long prime must not stall a performance.)"""
        snap = snap or self.params.snapshot()
        ids = encode(text)
        if len(ids) == 0:
            return
        pi = np.array(snap.mix(self.names))
        active = active_models(pi, snap["/threshold"])
        heard = Heard(active, pi)
        for x in ids.tolist():
            self._accept(x, heard)
        for ch in bytes(ids).decode("ascii"):
            self._publish(Frame(self.steps, ch, pi, active, primed=True))
        self.last = chr(int(ids[-1]))

    def _accept(self, x: int, heard: Heard) -> None:
        for stage in self.stages:
            stage.accept(x, heard)

    def playing(self, snap: Snapshot) -> bool:
        """Paused, or every fader down (a silent mixer), means no text."""
        return bool(snap["/run"]) and max(snap.mix(self.names), default=0.0) > 0

    def step(self) -> Frame | None:
        """One character, or None when paused or silent."""
        snap = self.params.snapshot()
        self._apply_events(snap)
        if not self.playing(snap):
            self._observe(snap)
            return None
        pi = np.array(snap.mix(self.names))
        active = active_models(pi, snap["/threshold"])
        omega = self._distributions(active, snap)
        if snap["/lookahead"] > 0:  # a late move would change the plan's random draws: next step
            self._observe(snap)
            x, lead, rho, omega = self._foresee(snap, pi, active, omega)
        else:
            snap, pi, active, omega = self._late_moves(snap, active, omega) or (snap, pi, active, omega)
            self._observe(snap)
            omega = cap_confidence(omega, snap["/cap"])
            rho = self._mixture(snap, pi[active], omega, active)
            rho = guard(rho, *self.repeats.next(), snap["/loop_guard"])
            rho = flood_guard(rho, *self.floods.now(), snap["/flood_guard"])
            rho = keep_words(rho, self.words.coins(tuple(active.tolist()), self.words.open), snap["/words"])
            x = draw(shape_distribution(rho, snap["/temperature"], snap["/top_p"], snap["/min_p"]), self.rng)
            lead = int(active[np.argmax(pi[active] * omega[:, x])])
        frame = Frame(self.steps, chr(x), pi, active, omega, rho, lead)
        self.steps += 1
        self.last = frame.char
        self._publish(frame)  # before the stages read x: the outputs need not wait for their step
        self._accept(x, Heard(active, pi, omega, snap["/presence"]))
        return frame

    def _distributions(self, active: np.ndarray, snap: Snapshot) -> np.ndarray:
        """Omega: each active style's distribution as it plays: its LSTM's, with its corpus memory
        (core/memory.py) and the copy model (core/copying.py) mixed in, unless the mode's rule
        joins the copy to the mixture instead (_mixture)."""
        omega = self.memory.mix(self.ensemble.distributions(active), active, snap["/memory"], snap["/copy"],
                                self.copier.run)
        return omega if RULES[snap["/mode"]].copy_after else self.copier.mix(omega, active, snap["/copy"])

    def _mixture(self, snap: Snapshot, weights: np.ndarray, omega: np.ndarray, active: np.ndarray) -> np.ndarray:
        """rho: the styles mixed by the mode's rule (core/mixing.py), the copy joined after it if the
        rule says so."""
        rule = RULES[snap["/mode"]]
        rho = rule.combine(weights, omega)
        if not rule.copy_after:
            return rho
        return self.copier.mix_after(rho, active, np.asarray(weights) / np.sum(weights), snap["/copy"])

    def _foresee(self, snap: Snapshot, pi: np.ndarray, active: np.ndarray, omega: np.ndarray):
        """The next character by lookahead (core/lookahead.py), with presence-corrected weights:
        (char, lead, the plain mixture rho for display, the capped distributions)."""
        omega = cap_confidence(omega, snap["/cap"])
        weights = self.presence.weights(pi, active, snap["/presence"])
        plan = Plan(tuple(active.tolist()), tuple(pi[active].tolist()), snap["/mode"], snap["/beams"],
                    snap["/lookahead"])
        shaping = Shaping(snap["/temperature"], snap["/top_p"], snap["/min_p"], snap["/cap"], snap["/phrase"],
                          snap["/copy"], snap["/memory"], snap["/loop_guard"], snap["/flood_guard"], snap["/words"])
        x, lead = self.lookahead.next_char(plan, weights, omega, shaping, self.rng)
        return x, int(active[lead]), self._mixture(snap, weights, omega, active), omega

    def _late_moves(self, snap: Snapshot, active: np.ndarray, omega: np.ndarray):
        """A move of the mix that arrived while the models stepped is heard in this character, not
        the next: the parameters are read again before mixing. Only moves of mixing parameters,
        and only when no model that stepped drops out (a raised style is stepped now, exactly as
        it would have been from the step's start), so a recording of the late snapshot replays
        to the same text. Anything else waits for the next step. None: nothing to take late."""
        late = self.params.snapshot()
        if late.version == snap.version:
            return None
        moved = [a for a, n in late.writes.items() if n != snap.writes.get(a, 0)]
        if not all(a in self._mixing for a in moved) or not self.playing(late):
            return None
        pi = np.array(late.mix(self.names))
        late_active = active_models(pi, late["/threshold"])
        if not set(active.tolist()) <= set(late_active.tolist()):
            return None
        if len(late_active) != len(active) or late["/mode"] != snap["/mode"]:  # the copy joins another way
            omega = self._distributions(late_active, late)
        return late, pi, late_active, omega

    def _observe(self, snap: Snapshot) -> None:
        """Hand the snapshot this step uses to the readers that keep them, when it changed: one
        list append on this thread, the reader does the rest on its own."""
        if snap.version == self._observed:
            return
        self._observed = snap.version
        for sub in self._subscribers:
            if sub.takes_snapshots:
                sub.push_snapshot(self.steps, snap)

    def write(self, n: int) -> str:
        """n characters stepped here, on the caller's thread (a sample, a card, a bench); fewer
        if the text pauses."""
        out = []
        for _ in range(n):
            frame = self.step()
            if frame is None:
                break
            out.append(frame.char)
        return "".join(out)

    # --- a text read, not written ------------------------------------------------------------
    def surprise(self, ids: np.ndarray, style: int, snap: Snapshot | None = None) -> np.ndarray:
        """(len(ids), 3): -log2 p(x_t | x_<t) of each character under one style, as its LSTM
        alone, with its corpus memory, and as it plays (memory and copy), every stage reading the
        text as it goes: what `instrument score` reports. The text is the style's own, not written."""
        snap = snap or self.params.snapshot()
        active, pi = np.array([style]), np.eye(self.ensemble.n)[style]
        bits = np.zeros((len(ids), 3))
        for t, x in enumerate(np.asarray(ids).tolist()):
            lstm = self.ensemble.distributions(active)
            recalled = self.memory.mix(lstm, active, snap["/memory"], snap["/copy"], self.copier.run)
            played = self.copier.mix(recalled, active, snap["/copy"])
            bits[t] = -np.log2(np.maximum([lstm[0, x], recalled[0, x], played[0, x]], 1e-300))
            self._accept(x, Heard(active, pi, played))
        return bits

    # --- the loop ----------------------------------------------------------------------------
    def start(self, max_chars: int | None = None) -> None:
        self._stop.clear()
        self._wake.clear()
        self._thread = threading.Thread(target=self.run, args=(max_chars,), name="engine", daemon=True)
        self._thread.start()

    def _rate_moved(self, address: str, value, source: str) -> None:
        if address == "/rate":
            self._wake.set()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    MAX_FAULTS = 20  # steps failing one after another before the piece is given up

    def run(self, max_chars: int | None = None) -> None:
        """Step until stopped (or max_chars written), paced at /rate without drift. A step that
        fails is logged and the loop plays on; only MAX_FAULTS failures in a row end it (then
        `failure` says why, and the outputs are told the piece is over, not left waiting)."""
        pacer = Pacer()
        start_steps, faults = self.steps, 0
        try:
            while not self._stop.is_set():
                if max_chars is not None and self.steps - start_steps >= max_chars:
                    break
                version = self.params.version
                try:
                    started = time.perf_counter()
                    frame = self.step()
                    faults = 0
                    self._too_slow(time.perf_counter() - started)
                except Exception as e:
                    faults += 1
                    self._faults.log(f"a step failed ({type(e).__name__}: {e}); the engine plays on")
                    if faults >= self.MAX_FAULTS:
                        self.failure = e
                        log.error("the engine stopped: %d steps failed in a row (%s: %s)", faults, type(e).__name__, e)
                        break
                    continue
                if frame is None:
                    pacer.reanchor()
                    self.params.wait_for_change(version, timeout=0.1)
                    continue
                pacer.wait(lambda: self.params.get("/rate"), self._wake, self._stop)
        finally:
            self.close_subscriptions()

    SLOW_STEP = 0.5  # seconds: a character this late is a gap the audience hears

    def _too_slow(self, seconds: float) -> None:
        """The tree's ranges allow settings this machine cannot play in time (17 styles at
        lookahead 16 x 16 beams: 5.5 characters a second, gaps of 1.6 s): say so, at most every
        30 s, with what to lower. Three in a row: one slow step is a catch-up (a style raised after
        a long rest, a prime), not the setting."""
        self._slow_in_a_row = self._slow_in_a_row + 1 if seconds >= self.SLOW_STEP else 0
        if self._slow_in_a_row >= 3:
            snap = self.params.snapshot()
            self._slow.log(f"a character took {seconds:.2f} s to choose (lookahead {snap['/lookahead']} x "
                           f"{snap['/beams']} beams, {sum(w > 0 for w in snap.mix(self.names))} styles up): more than "
                           f"this machine plays in time; lower /beams or /lookahead, or fewer styles")

    def close_subscriptions(self) -> None:
        """The piece is over: every reader drains what is left and ends."""
        for sub in self._subscribers:
            sub.close()
