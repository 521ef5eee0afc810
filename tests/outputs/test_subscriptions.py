"""Who may subscribe: caps that one host cannot fill, and room kept for this machine's panel."""
from __future__ import annotations

from instrument.outputs.subscriptions import CAP, HERE_SLOTS, PER_HOST, Subscriptions


def _subscribe(subs: Subscriptions, target) -> bool:
    if subs.refusal(target) is not None:
        return False
    subs.add(target)
    return True


def test_one_host_holds_at_most_PER_HOST_subscriptions():
    """16 ports of one host re-subscribing every 30 s kept the panel on 127.0.0.1 refused for 272 s."""
    subs = Subscriptions()
    taken = [_subscribe(subs, ("203.0.113.7", 9000 + i)) for i in range(16)]
    assert sum(taken) == PER_HOST
    assert "holds" in subs.refusal(("203.0.113.7", 9100))
    assert _subscribe(subs, ("127.0.0.1", 9001))  # the panel gets in
    assert _subscribe(subs, ("203.0.113.7", 9000))  # a target already subscribed renews


def test_other_machines_leave_room_for_this_one():
    subs = Subscriptions()
    hosts = [f"203.0.113.{i}" for i in range(1, 40)]
    taken = sum(_subscribe(subs, (h, 9000 + p)) for h in hosts for p in range(PER_HOST))
    assert taken == CAP - HERE_SLOTS
    assert all(_subscribe(subs, ("127.0.0.1", 9001 + i)) for i in range(HERE_SLOTS))
    assert subs.refusal(("127.0.0.1", 9999)) is not None  # and the whole is still capped
    assert len(subs.targets()) == CAP
