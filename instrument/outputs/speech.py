"""Spoken word: the text cut into phrases and spoken (pyttsx3: espeak-ng on Linux, the system
voices on macOS and Windows) while generation goes on, or rendered to a WAV file.

Phrases end at a sentence or line end, or after /speech/words words, so the voice starts within a
second of the text. When the voice falls behind, /speech/policy decides: `live` skips to the
newest phrase (a performance stays in the present), `recite` speaks everything in order.
Code-like text is made speakable: identifiers are split into words and runs of symbols dropped,
never spelled out for ten seconds.

Each phrase is spoken in the voice of the style that wrote most of its letters (each frame's
`lead`: with the lookahead, the word-level mixture's writer), from the voice table (voices.py).
/speech/stop cuts the voice dead and drops every phrase waiting; so does /speech/on turned off.
/speech/volume at 0 is a mute a fader reaches: phrases pass unspoken (counted), nothing renders.
"""
from __future__ import annotations

import logging
import re
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from ..frames import Frame
from ..params import Param, ParamTree
from .base import Sink
from .voice import PhraseError, VoiceError, VoiceProcess
from .voices import VoiceChoice, VoiceTable, load_voices, piper_missing

log = logging.getLogger("instrument.speech")

POLICIES = ("live", "recite")
RECITE_LIMIT = 1000  # phrases kept waiting in recite mode before the oldest are dropped


PARAMS = [  # this module's table (tree.py builds the union)
    Param("/speech/on", "bool", (), True, "speak the text (when the instrument was started with speech)"),
    Param("/speech/rate", "float", (60.0, 400.0), 170.0, "speaking rate, words per minute"),
    Param("/speech/volume", "float", (0.0, 1.0), 1.0, "speaking volume"),
    Param("/speech/voice", "text", (100,), "", "voice: empty = each style its own system voice (the voice table), "
          "piper = the neural voice's table, else part of one voice's id or name (e.g. en-us, fr) for every style",
          frozenset({"surface"})),
    Param("/speech/stop", "trigger", (), None, "silence the voice now and drop every phrase waiting",
          frozenset({"event", "surface"})),
    Param("/speech/policy", "enum", POLICIES, "live",
          "when the voice falls behind: live skips to the newest phrase, recite speaks all"),
    Param("/speech/words", "int", (3, 60), 12, "longest phrase in words, when no sentence ends first"),
    Param("/speech/on_beat", "bool", (), False, "start each phrase on the next beat (of the Link session or the "
          "MIDI clock followed)"),
]


@dataclass(frozen=True)
class Phrase:
    text: str
    sampled: float    # when its last character was sampled (time.monotonic)
    writer: int = -1  # the model that wrote most of its letters (-1: not known)


class Phraser:
    """Text in, phrases out: at . ! ? followed by a space, at a newline, or after max_words. With
    each character may come the model that wrote it (its frame's lead)."""

    def __init__(self, max_words: int = 12):
        self.max_words = max_words
        self._buf: list[str] = []
        self._leads: list[int] = []
        self._words = 0

    def feed(self, text: str, now: float | None = None, leads: list[int] | None = None) -> list[Phrase]:
        now = time.monotonic() if now is None else now
        leads = leads if leads is not None and len(leads) == len(text) else [-1] * len(text)
        out = []
        for ch, lead in zip(text, leads):
            prev = self._buf[-1] if self._buf else ""
            if ch in " \t\n" and prev and prev not in " \t\n":
                self._words += 1
            if ch == "\n" or (ch in " \t" and prev in ".!?;:") or (ch in " \t" and self._words >= self.max_words):
                out += self._cut(now)
                continue
            self._buf.append(ch)
            self._leads.append(lead if ch.isalpha() else -1)
        return out

    def flush(self, now: float | None = None) -> list[Phrase]:
        """What is left when the text ends: the unfinished phrase, if any."""
        return self._cut(time.monotonic() if now is None else now)

    def drop(self) -> None:
        """Forget the phrase in progress (the voice was cut)."""
        self._buf.clear()
        self._leads.clear()
        self._words = 0

    def _cut(self, now: float) -> list[Phrase]:
        phrase = "".join(self._buf).strip()
        known = [lead for lead in self._leads if lead >= 0]
        writer = max(set(known), key=known.count) if known else -1
        self.drop()
        return [Phrase(phrase, now, writer)] if phrase else []


def leads_of(frames: list[Frame], text: str) -> list[int]:
    """The writer of each character of text: the frames are the last of it (a slow reader's
    oldest frames were dropped, never its text), so they line up from the end."""
    known = [f.lead for f in frames[-len(text):]] if text else []
    return [-1] * (len(text) - len(known)) + known


_SYMBOL_NAMES = {"&": "and", "%": "percent", "=": "equals", "+": "plus", "@": "at", "#": "hash"}
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?|[^\sA-Za-z\d]+")


def speakable(text: str) -> str:
    """What a voice should say for a phrase: words and numbers; a lone & % = + @ # named; every
    other symbol and every run of symbols dropped. do_fork -> do fork, camelCase -> camel Case."""
    words = []
    for token in _TOKEN.findall(_CAMEL.sub(" ", text.replace("_", " "))):
        if token[0].isalnum():
            words.append(token)
        elif len(token) == 1 and token in _SYMBOL_NAMES:
            words.append(_SYMBOL_NAMES[token])
        elif token in (".", ",", "!", "?", ";", ":", "'", "-", '"'):
            if words:
                words[-1] += token if token in ".,!?;:" else ""
    return " ".join(words)


class Speech(Sink):
    """Reads the text, cuts phrases and speaks them by the policy, all on its own thread: while
    a phrase is spoken the text waits in the subscription (it is never dropped), and what came
    meanwhile is phrased after it, so `live` can skip to the newest phrase."""

    name = "speech"
    maxlen = 4096  # frames carry who wrote each character; a reader further behind loses only that
    FAILURES = 3  # phrases in a row not spoken before the voice is given up for the piece

    def __init__(self, params: ParamTree, wav_path: Path | None = None, policy: str | None = None,
                 voices: VoiceTable | None = None, names: list[str] | None = None):
        """policy: a fixed one (a replay recites), else /speech/policy decides. voices: the voice
        table (the shipped one by default); names: the models' names, in the frames' order."""
        super().__init__()
        self.params = params
        self._policy = policy
        self.wav_path = wav_path
        self.voices = voices if voices is not None else load_voices()
        self.names = names or []
        self.phraser = Phraser(params.get("/speech/words"))
        self.queue: deque[Phrase] = deque()
        self.spoken: list[tuple[Phrase, float, str]] = []  # (phrase, when spoken or written, what was said)
        self.skipped = 0         # phrases dropped: skipped to the newest, over the backlog, or cut
        self.muted = 0           # phrases passed unspoken at volume 0
        self.cuts = 0            # times the voice was cut (/speech/stop, /speech/on off)
        self.voice = None        # a VoiceProcess once it has started (tests give a fake)
        self.silent = False      # the voice could not start or failed: the piece plays on without it
        self.failed = 0          # phrases in a row the voice could not speak
        self.beats = None        # seconds to the next beat, or None (Link's until_beat), for /speech/on_beat
        self._cut = False        # a cut asked for, not yet handled on the speech thread
        self.word = ""           # the word sounding now, as far as the voice tells (the projection's caption)
        self._words: list[str] = []
        self._no_piper = piper_missing()
        self._told = False
        params.add_listener(self._heard)

    @property
    def policy(self) -> str:
        return self._policy or self.params.get("/speech/policy")

    def opened(self) -> None:
        """Start the voice (a process of its own, voice.py); without one, say so once and play on.
        The neural voice is loaded now, not at the first phrase."""
        if self.voice is None:
            try:
                self.voice = VoiceProcess(self.wav_path)
            except (VoiceError, OSError) as e:  # no espeak-ng, no driver, no sound
                self._fall_silent(f"speech: {e}; playing on without speech")
                return
            self.voice.on_word = self._sounding
        asked = self.params.get("/speech/voice")
        if self.voices.neural(asked):
            if self._no_piper:
                if not self._told:  # once a piece, not again at each fresh voice after a cut
                    log.warning("speech: %s", self._no_piper)
                    self._told = True
            else:
                self._warm(self.voices.choose(asked, None))

    def _sounding(self, index: int) -> None:
        """The voice began word `index` of the phrase it is speaking."""
        self.word = self._words[index] if 0 <= index < len(self._words) else ""

    def _warm(self, choice: VoiceChoice) -> None:
        try:
            self.voice.warm(choice.voice, self.params.get("/speech/rate") * choice.rate)
        except VoiceError as e:
            if self._cut:  # cut while it loaded: the fresh voice loads it again
                return
            log.warning("speech: the neural voice did not load (%s); speaking with the system voices", e)
            self._no_piper = str(e)

    # --- the cut: asked on any thread, done on the speech thread ---------------------------------
    def _heard(self, address: str, value, source: str) -> None:
        if address == "/speech/stop" or (address == "/speech/on" and not value):
            self.stop()

    def stop(self) -> None:
        """Silence now, from any thread: the voice process (and its player) killed, every phrase
        waiting dropped. The speech thread then starts a fresh voice for the next phrase."""
        self._cut = True
        self.skipped += len(self.queue)
        self.queue.clear()
        voice = self.voice
        if voice is not None and hasattr(voice, "cut"):
            voice.cut()
        if self.subscription is not None:
            self.subscription.nudge()

    def _after_cut(self) -> None:
        """On the speech thread: the phrase in progress forgotten, the killed voice replaced."""
        self._cut = False
        self.cuts += 1
        self.phraser.drop()
        self.skipped += len(self.queue)
        self.queue.clear()
        if self.voice is not None and hasattr(self.voice, "cut"):
            self.voice.close()
            self.voice = None
            if not self.silent:
                self.opened()
        log.info("speech: cut (%d phrases dropped so far)", self.skipped)

    # --- phrases ---------------------------------------------------------------------------------
    def write(self, frames: list[Frame], text: str) -> None:
        if self._cut:
            self._after_cut()
        self.phraser.max_words = self.params.get("/speech/words")
        phrases = self.phraser.feed(text, leads=leads_of(frames, text))
        if not phrases or self.silent or not self.params.get("/speech/on"):
            return
        self.queue.extend(phrases)
        while len(self.queue) > RECITE_LIMIT:
            self.queue.popleft()
            self.skipped += 1

    def patience(self) -> float:
        return 0.0 if self.queue else super().patience()

    def tend(self) -> bool:
        """Speak the next phrase by the policy; True while phrases are left. When the text has
        ended, its unfinished last phrase is spoken too."""
        if self._cut:
            self._after_cut()
        if self.subscription.closed and not self.silent and self.params.get("/speech/on"):
            self.queue.extend(self.phraser.flush())
        phrase = self._next()
        if phrase is not None:
            self._speak(phrase)
        return bool(self.queue)

    def _next(self) -> Phrase | None:
        if not self.queue:
            return None
        if self.policy == "live":
            self.skipped += len(self.queue) - 1
            phrase = self.queue.pop()
            self.queue.clear()
            return phrase
        return self.queue.popleft()

    def choice(self, phrase: Phrase) -> VoiceChoice:
        """Who speaks this phrase: its writer's voice in the table /speech/voice picks; without
        piper installed, the system voice the first family gives that style."""
        style = self.names[phrase.writer] if 0 <= phrase.writer < len(self.names) else None
        asked = self.params.get("/speech/voice")
        chosen = self.voices.choose(asked, style)
        if chosen.neural and self._no_piper:
            chosen = self.voices.choose("", style)
        return VoiceChoice("") if chosen.neural and self._no_piper else chosen

    def _speak(self, phrase: Phrase) -> None:
        said = speakable(phrase.text)
        if not said or self.silent:
            return
        volume = self.params.get("/speech/volume")
        if volume <= 0.0:
            self.muted += 1
            return
        if self.voice is None:
            self.opened()
            if self.voice is None:
                return
        choice = self.choice(phrase)
        self._wait_for_beat()
        started = time.monotonic()
        self._words = said.split()
        try:
            seconds = self.voice.speak(said, self.params.get("/speech/rate") * choice.rate, volume,
                                       choice.voice, choice.pitch)
        except PhraseError as e:  # the voice is alive: skip the phrase, unless it fails phrase after phrase
            if self._cut:
                self._after_cut()
                return
            self.failed += 1
            if self.failed >= self.FAILURES:
                self._fall_silent(f"speech: {self.failed} phrases in a row not spoken ({e}); playing on without speech")
            else:
                log.warning("speech: a phrase not spoken (%s); the voice goes on", e)
            return
        except (VoiceError, OSError) as e:
            if self._cut:  # killed on purpose
                self._after_cut()
                return
            self._fall_silent(f"speech: {e}; playing on without speech")
            return
        finally:
            self.word = ""
        self.failed = 0
        self.spoken.append((phrase, time.monotonic(), said))
        if seconds and self.policy == "live":
            self._sound_for(started + seconds)

    def _wait_for_beat(self) -> None:
        """With /speech/on_beat and a beat to follow, a phrase waits for the next beat (at most
        one, however slow the tempo); the end of the piece does not wait."""
        if self.beats is None or not self.params.get("/speech/on_beat"):
            return
        wait = self.beats()
        if wait:
            self.subscription.wait_closed(min(wait, 3.0))

    def _sound_for(self, until: float) -> None:
        """A voice rendering to a file under the live policy stays busy for as long as its phrase
        would sound, as a voice on a speaker does: the file then holds what a listener would have
        heard (the newest phrase after each), and the synthesiser does not run flat out beside
        the engine. The end of the piece cuts the wait short. recite renders everything in order
        anyway, as fast as it can."""
        self.subscription.wait_closed(max(0.0, until - time.monotonic()))

    def _fall_silent(self, message: str) -> None:
        log.warning(message)
        self.silent = True
        self.queue.clear()

    def closed(self) -> None:
        if self.skipped or self.muted:
            log.info("speech: %d phrases dropped, %d muted", self.skipped, self.muted)
        if self.voice is not None:
            self.voice.close()
