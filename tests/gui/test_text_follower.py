"""The panel's text pane follows the engine's text however long the piece runs."""
from __future__ import annotations

import pytest

from instrument.gui.client import TEXT_KEEP, EngineClient
from instrument.gui.textfollower import TextFollower


@pytest.fixture
def client():
    c = EngineClient(("127.0.0.1", 9))  # nothing is sent: the test plays the engine's messages itself
    yield c
    c.close()


def hear(client: EngineClient, text: str, lead: str = "ayes") -> None:
    client._on("/frame", [0, text[-1], lead])
    for ch in text:
        client._on("/text/char", [ch])


def shown(follower: TextFollower) -> str:
    return "\n".join("".join(g.ch for g in line) for line in follower.layout.lines)


def test_the_pane_keeps_following_past_what_the_client_keeps(client):
    follower = TextFollower(40, lambda lead: (1, 2, 3) if lead == "ayes" else (9, 9, 9))
    words = [f"w{i:05d}" for i in range(2 * TEXT_KEEP // 7)]  # twice what the client keeps
    for chunk in range(0, len(words), 50):
        hear(client, " ".join(words[chunk:chunk + 50]) + " ")
        follower.update(client)
        assert shown(follower).split()[-1] == words[min(chunk + 50, len(words)) - 1]
    assert follower.fed == client.text_total > TEXT_KEEP
    assert {g.colour for line in follower.layout.lines for g in line} == {(1, 2, 3)}


def test_a_burst_longer_than_the_client_keeps_shows_its_end(client):
    follower = TextFollower(40, lambda lead: (0, 0, 0))
    hear(client, "x" * (TEXT_KEEP + 500) + " the end")
    follower.update(client)
    assert shown(follower).endswith("the end")
    assert follower.fed == client.text_total
    follower.update(client)  # nothing new: nothing fed twice
    assert shown(follower).count("the end") == 1
