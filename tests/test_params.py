import logging
import math
import threading

import pytest

from instrument.params import Param, ParamTree
from instrument.tree import build_tree


@pytest.fixture
def tree() -> ParamTree:
    return build_tree(["shakespeare", "bible"])


def test_every_documented_address_is_in_the_tree(tree):
    for address in ("/mix/shakespeare", "/mix/bible", "/temperature", "/top_p", "/mode", "/threshold",
                    "/rate", "/seed", "/run", "/prime", "/reset"):
        assert address in tree
    assert tree.get("/threshold") == 0.05  # the paper's value
    assert all(entry["doc"] for entry in tree.describe())


def test_a_good_value_is_stored(tree):
    result = tree.set("/mix/bible", 0.7)
    assert result.ok and not result.clamped and tree.get("/mix/bible") == 0.7


def test_out_of_range_is_clamped_and_reported_once(tree, caplog):
    from instrument.params import log as params_log
    from instrument.base.ratelog import RateLimitedLog

    tree._clamps = RateLimitedLog(params_log, "clamped values", interval=0.0)  # one report per excursion
    with caplog.at_level(logging.WARNING, logger="instrument.params"):
        for value in (1.5, 2.0, 3.0):
            assert tree.set("/mix/bible", value).clamped
    assert tree.get("/mix/bible") == 1.0
    assert len([r for r in caplog.records if "clamped" in r.message]) == 1
    tree.set("/mix/bible", 0.5)  # back in range: the next excursion is reported again
    with caplog.at_level(logging.WARNING, logger="instrument.params"):
        tree.set("/mix/bible", -1)
    assert tree.get("/mix/bible") == 0.0
    assert len([r for r in caplog.records if "clamped" in r.message]) == 2


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "loud", None, [1, 2], b"\x00"])
def test_bad_values_are_refused_and_the_old_value_kept(tree, bad):
    tree.set("/temperature", 0.9)
    before = tree.snapshot()
    result = tree.set("/temperature", bad)
    assert not result.ok and "/temperature" in result.message
    after = tree.snapshot()
    assert after.values == before.values and after.version == before.version


def test_unknown_address_is_refused_without_changing_anything(tree):
    before = tree.snapshot()
    result = tree.set("/mix/nobody", 0.5)
    assert not result.ok and "no parameter" in result.message
    assert tree.snapshot().values == before.values


def test_kinds_accept_what_controllers_send(tree):
    assert tree.set("/run", 0.0).value is False          # a TouchOSC toggle
    assert tree.set("/run", "on").value is True
    assert tree.set("/mode", "product").value == "product"
    assert tree.set("/mode", 0).value == "linear"        # a choice by its number
    assert not tree.set("/mode", "louder").ok
    assert tree.set("/seed", 7.6).value == 8             # ints round
    assert tree.set("/temperature", "0.5").value == 0.5  # numbers in text, as some tools send them


@pytest.mark.parametrize("text", ["\uff10.\uff17", "nan", "inf", " 0.7", "0.7 ", "1_0", "0x10", "", "--1"])
def test_text_that_is_not_a_plain_ascii_number_is_refused_for_a_number(tree, text):
    assert not tree.set("/temperature", text).ok and tree.get("/temperature") == 0.8


def test_triggers_count_and_text_is_kept_whole(tree):
    assert tree.set("/reset").value == 1 and tree.set("/reset").value == 2
    tree.set("/prime", "the house ")
    tree.set("/prime", "the house ")
    snap = tree.snapshot()
    assert snap["/prime"] == "the house " and snap.writes["/prime"] == 2


def test_listeners_hear_every_change_with_its_source(tree):
    heard = []
    tree.add_listener(lambda address, value, source: heard.append((address, value, source)))
    tree.set("/mix/bible", 0.25, source="midi")
    tree.set("/temperature", math.nan, source="osc")   # refused: not heard
    tree.set("/reset", source="panel")
    assert heard == [("/mix/bible", 0.25, "midi"), ("/reset", None, "panel")]  # a trigger fires, it has no value


def test_a_flood_of_writes_from_threads_keeps_the_latest_and_grows_nothing(tree):
    def flood(k: int) -> None:
        for i in range(5000):
            tree.set("/mix/bible", (i % 100) / 100, source=f"t{k}")
    threads = [threading.Thread(target=flood, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snap = tree.snapshot()
    assert snap.version == 20_000 and snap.writes["/mix/bible"] == 20_000
    assert snap["/mix/bible"] == 0.99  # each thread's last write was (4999 % 100) / 100


def test_snapshot_is_a_consistent_copy(tree):
    snap = tree.snapshot()
    tree.set("/mix/bible", 0.9)
    assert snap["/mix/bible"] == 0.0 and tree.snapshot()["/mix/bible"] == 0.9


def test_wait_for_change_wakes_on_a_write(tree):
    version = tree.snapshot().version
    threading.Timer(0.05, lambda: tree.set("/rate", 10)).start()
    assert tree.wait_for_change(version, timeout=5)
    assert not tree.wait_for_change(tree.snapshot().version, timeout=0.01)


def test_registry_rejects_duplicates_and_bad_addresses():
    tree = ParamTree()
    tree.add(Param("/a", "float", (0, 1), 0.5))
    with pytest.raises(ValueError):
        tree.add(Param("/a", "float", (0, 1), 0.5))
    with pytest.raises(ValueError):
        Param("no slash", "float", (0, 1), 0.5)


def test_a_flood_of_clamped_values_is_a_few_lines(tree, caplog):
    with caplog.at_level(logging.WARNING, logger="instrument.params"):
        for k in range(2000):  # every other write out of range: 1,000 excursions
            tree.set("/mix/bible", 2.0 if k % 2 else 0.5)
    assert 1 <= len([r for r in caplog.records if "clamped" in r.message]) <= 3


def test_a_move_of_many_values_is_one_version_and_all_or_nothing(tree):
    seen = []
    tree.add_listener(lambda address, value, source: seen.append(dict(tree.snapshot().values)))
    version = tree.snapshot().version
    assert tree.set_many({"/mix/bible": 0.9, "/mix/shakespeare": 0.1, "/temperature": 1.2}).ok
    assert tree.snapshot().version == version + 1
    assert all(s["/mix/bible"] == 0.9 and s["/mix/shakespeare"] == 0.1 for s in seen)  # no listener saw half of it
    result = tree.set_many({"/mix/bible": 0.2, "/mix/shakespeare": float("nan")})
    assert not result.ok and tree.get("/mix/bible") == 0.9 and tree.snapshot().version == version + 1


@pytest.mark.parametrize("address", ["/temperature", "/seed", "/lookahead"])
def test_a_number_of_hundreds_of_digits_is_refused_not_a_crash(address):
    tree = build_tree(["a"])
    before = tree.get(address)
    result = tree.set(address, 10**400)
    assert not result.ok and "401-digit" in result.message
    assert tree.get(address) == before
