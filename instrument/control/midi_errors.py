"""What rtmidi says when it cannot open a MIDI system, in a performer's words: its own text
("MidiInAlsa::initialize: error creating ALSA sequencer client object.") names C++ methods."""
from __future__ import annotations

PLAIN = (  # a piece of rtmidi's message -> what it means here
    ("ALSA sequencer", "ALSA's MIDI sequencer could not be opened (no /dev/snd/seq: a machine without sound "
                       "hardware, or the snd-seq module not loaded)"),
    ("JACK server not running", "no JACK server is running"),
    ("CoreMIDI", "CoreMIDI could not be opened"),
    ("MidiInWinMM", "Windows' MIDI service could not be opened"),
)


def plainly(api: str | None, error: Exception) -> str:
    """One MIDI system's failure to open, as a sentence; rtmidi's own words where they are unknown."""
    said = str(error)
    meaning = next((plain for key, plain in PLAIN if key in said), said)
    return f"{api or 'the system default'}: {meaning}"
