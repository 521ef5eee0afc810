"""A part whose library is not installed says which extra installs it, and the rest plays on."""
from __future__ import annotations

import importlib.util

import pytest


@pytest.fixture
def without(monkeypatch):
    """Make the named modules look uninstalled."""
    real = importlib.util.find_spec

    def hide(*names):
        monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in names else real(name, *a))

    return hide


def test_no_dear_pygui_means_no_window_and_says_which_extra(without):
    from instrument.screen import display_available

    without("dearpygui")
    assert display_available() == "Dear PyGui is not installed (pip install 'instrument[gui]', or 'instrument[all]')"


def test_no_rtmidi_means_no_midi_and_says_which_extra(without):
    from instrument.control.midi import MidiUnavailable, list_ports

    without("rtmidi")
    with pytest.raises(MidiUnavailable, match=r"python-rtmidi is not installed \(pip install 'instrument\[midi\]'"):
        list_ports()


def test_no_pyttsx3_means_no_voice_and_says_which_extra(without):
    from instrument.outputs.voice import VoiceError, VoiceProcess

    without("pyttsx3")
    with pytest.raises(VoiceError, match=r"instrument\[speech\]"):
        VoiceProcess()
