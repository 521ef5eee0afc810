"""A performance from its first setting to its last line: `with Session.open(settings) as s: s.run()`.

The session opens each part (parts.py) in an order in which every part finds what it needs, and
registers how to close it on an ExitStack, so closing runs in exactly the reverse order: the
engine stops first (its text ends, every output drains what is left), then the outputs, then the
inputs (no move arrives for a stopped engine), then the file worker (a learn's last write, a
preset being saved, finish) and the OSC sender. A setting that fails half-way closes what was
already opened, and nothing is left running.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack

from . import band, parts
from .settings import PlaySettings

log = logging.getLogger("instrument")


class Session:
    def __init__(self, settings: PlaySettings):
        self.settings = settings
        self._stack = ExitStack()
        self.engine = self.osc_in = self.osc_out = self.presets = self.files = None
        self.midi = self.midi_port = self.recorder = self.speech = self.projection = None
        self.console = self.panel = self.link = self.midi_out = self.wekinator = self.typing = None
        self.history = None

    @classmethod
    def open(cls, settings: PlaySettings) -> "Session":
        """Every part opened, or a SetupError (after closing what was opened)."""
        session = cls(settings)
        try:
            session._open_all()
        except BaseException:
            session.close()
            raise
        return session

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """The engine stops first whatever else was opened (a start that failed half-way has
        outputs waiting for text that will never come), then the rest in reverse order."""
        if self.engine is not None:
            self.engine.stop()
            self.engine.close_subscriptions()
        self._stack.close()

    @property
    def failure(self) -> BaseException | None:
        """What stopped the engine, if a fault did (then the command exits 1)."""
        return self.engine.failure if self.engine is not None else None

    # --- opening, in order -----------------------------------------------------------------------
    def _open_all(self) -> None:
        s, stack = self.settings, self._stack
        styles = parts.load_styles(s.engine.models)
        self.engine = engine = parts.build_engine(s.engine, styles)
        stack.callback(engine.close_subscriptions)  # a failed start ends the outputs' threads too
        from ..control.worker import Worker

        self.files = Worker()  # preset and mapping files are read and written here, never on a MIDI or OSC thread
        stack.callback(self.files.stop)
        self.osc_in, self.osc_out = parts.attach_osc(engine, s.osc)
        stack.callback(self.osc_out.join, 1.0)
        if self.osc_in is not None:
            stack.callback(self.osc_in.stop)
        self.presets = parts.attach_presets(engine, s.presets)
        self.presets.on_loaded = lambda name: self.osc_out.announce("/preset/current", name)
        from ..control.history import History

        self.history = History(engine.params, self.presets)  # /undo and /panic
        if s.preset:
            parts.start_from_preset(self.presets, s.preset)
        self.midi, self.midi_port = parts.attach_midi(engine, s.midi, self.presets, self.osc_out.broadcast, self.files)
        if self.midi_port is not None:
            stack.callback(self.midi_port.close)
            if s.midi.out:
                self._open_midi_out()
        if s.link:
            self.link = band.start_link(engine)
            if self.link is not None:
                stack.callback(self.link.stop)
        if s.wekinator:
            self.wekinator = band.start_wekinator(engine, s.wekinator, self.midi.mapping)
            if self.wekinator is not None:
                stack.callback(self.wekinator.stop)
        if self.osc_in is not None:
            parts.map_control_messages(self.osc_in.router, self.midi, self.presets, self.files,
                                       self.midi.mapping.path.parent)
        self._open_outputs(styles)
        from ..control.typed import TypedPhrases

        if TypedPhrases.wanted():  # a line typed into this terminal comes in as a prime
            self.typing = TypedPhrases(engine.params).start()

    def _open_midi_out(self) -> None:
        self.midi_out, sinks = parts.open_midi_out(self.engine, self.settings.midi, self.midi)
        if self.midi_out is not None:
            self._stack.callback(self.midi_out.close)  # after its sinks' last messages (registered next)
        for sink in sinks:
            self._stack.callback(sink.join, 2.0)

    def _beats(self):
        """What a voice on the beat follows: the Link session, else the MIDI clock followed."""
        if self.link is not None:
            return self.link.until_beat
        return self.midi.clock.until_beat if self.midi is not None else None

    def _open_outputs(self, styles: parts.Styles) -> None:
        from ..outputs.console import Console

        out, stack, engine = self.settings.outputs, self._stack, self.engine
        if out.record:
            self.recorder = parts.start_recorder(engine, out.record, styles.files)
            stack.callback(self.recorder.join)  # its last lines, the end mark among them
        if out.speak or out.speak_to:
            self.speech = parts.start_speech(engine, out, self._beats())
            stack.callback(self.speech.join)
        if out.project:
            self.projection = parts.attach_projection(engine, out)
            if self.projection is not None and self.speech is not None:
                speech = self.speech
                self.projection.caption = lambda: speech.word  # the word being spoken, under the text
        self.console = Console(names=engine.names, params=engine.params).attach(engine)
        self._log_through_console()  # registered before the console's join: restored after it
        stack.callback(self.console.join, 2.0)
        if out.panel:
            self.panel = parts.start_panel(self.osc_in, out.theme, bool(self.settings.wekinator))
            if self.panel is not None:
                stack.callback(self.panel.terminate)

    def _log_through_console(self) -> None:
        """From now on a log line never lands inside a word, and no thread that logs waits on the
        terminal (the console's listener thread writes them); at the end the handlers come back
        first, then the listener writes what is left."""
        root = logging.getLogger()
        before = root.handlers[:]
        handler, listener = self.console.log_queue()
        listener.start()
        self._stack.callback(self._report_dropped, handler)
        self._stack.callback(listener.stop)
        root.handlers[:] = [handler]
        self._stack.callback(lambda: root.handlers.__setitem__(slice(None), before))

    @staticmethod
    def _report_dropped(handler) -> None:
        if handler.dropped:
            log.warning("%d log lines were dropped while the console was behind", handler.dropped)

    # --- playing ------------------------------------------------------------------------------------
    def run(self) -> None:
        """Play until the piece ends, Ctrl-C, `kill`, or the projection window is closed."""
        from .signals import interrupt_on_kill

        interrupt_on_kill()
        self._stack.callback(self.engine.stop)  # the last registered: the first to close
        self.engine.start(max_chars=self.settings.chars)
        try:
            if self.projection is not None:
                self.console.start(self.engine)
                self.projection.run()  # the window needs the main thread; closing it ends the piece
            else:
                self.console.run()  # in the main thread, so Ctrl-C lands here
        except KeyboardInterrupt:
            pass
