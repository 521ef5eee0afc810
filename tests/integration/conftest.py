"""What the integration tests share: a private JACK server for the MIDI ones."""
from __future__ import annotations

import pytest

from ..realparts import private_jack


@pytest.fixture
def jack(monkeypatch):
    """A JACK server of the test's own, the default for every client the test starts."""
    with private_jack() as name:
        monkeypatch.setenv("JACK_NO_AUDIO_RESERVATION", "1")
        monkeypatch.setenv("JACK_DEFAULT_SERVER", name)
        yield name
