"""The docs cannot drift from the code: every command in them parses, every OSC address they send
is one the engine answers, and the generated pages are what their commands generate now."""
from __future__ import annotations

import re
import shlex
import sys

import pytest

from instrument.cli import build_parser
from instrument.control.osc_doc import render
from instrument.app.parts import map_control_messages
from instrument.tree import build_tree

from .conftest import PROJECT

PAGES = [PROJECT / "README.md", *sorted((PROJECT / "docs").glob("*.md"))]


def command_lines():
    """(page, line) for every shell line in a fenced block, comments and prompts stripped."""
    for page in PAGES:
        for block in re.findall(r"```(?:sh|bash|console)?\n(.*?)```", page.read_text(), flags=re.S):
            for line in block.splitlines():
                line = line.split(" # ")[0].strip()
                if line and not line.startswith("#"):
                    yield page.name, line


LINES = list(command_lines())


def test_the_docs_have_commands():
    assert sum(1 for _, line in LINES if line.startswith("instrument ")) >= 15


@pytest.mark.parametrize("page, line", [x for x in LINES if x[1].startswith("instrument ")])
def test_every_instrument_command_in_the_docs_parses(page, line):
    argv = shlex.split(line)[1:]
    try:
        build_parser().parse_args(argv)
    except SystemExit as e:
        pytest.fail(f"{page}: `{line}` does not parse ({e})")


class _Stub:
    mapping = None


def answered() -> set[str]:
    """Every address a playing engine answers: its parameters and its commands."""
    return answered_commands() | set(build_tree(["ayes"]).params) | set(build_tree(["bible", "linux"]).params)


def answered_commands() -> set[str]:
    """The commands on the router of a playing engine."""
    from instrument.core.ensemble import Ensemble
    from instrument.engine import Engine
    from instrument.app.parts import attach_osc
    from instrument.app.settings import OscSettings

    from .fakes import letter_model

    names = ["ayes"]
    engine = Engine(Ensemble([letter_model("a")], names))
    server, out = attach_osc(engine, OscSettings("127.0.0.1:0", None, None, 60.0, oscquery=False))
    map_control_messages(server.router, _Stub(), _Stub())
    try:
        return set(server.router.commands)
    finally:
        server.stop()
        engine.close_subscriptions()


@pytest.mark.parametrize("page, line", [x for x in LINES if x[1].startswith("oscsend ")])
def test_every_osc_address_in_the_docs_is_answered(page, line):
    address = shlex.split(line)[3]
    assert address in answered(), f"{page}: `{line}` sends to {address}, which the engine does not answer"


def test_make_targets_in_the_docs_exist():
    makefile = (PROJECT / "Makefile").read_text()
    for page, line in LINES:
        if line.startswith("make "):
            target = line.split()[1]
            assert re.search(rf"^{target}:", makefile, flags=re.M), f"{page}: no make target {target}"


def test_osc_md_is_what_describe_generates():
    from instrument.app.library import installed_names
    from instrument.app.parts import every_command

    names = installed_names()
    assert (PROJECT / "docs" / "osc.md").read_text() == render(build_tree(names), every_command(names)) + "\n"


def test_every_command_a_playing_engine_answers_is_documented_and_every_documented_one_answers():
    documented = set(re.findall(r"^\| `(/[^`]+)` \|", (PROJECT / "docs" / "osc.md").read_text().split("## Commands")[1]
                                .split("## ")[0], flags=re.M))
    documented = {d for d in documented if not any(c in d for c in "*?[{")}  # the pattern examples row
    assert documented == answered_commands()


def test_models_md_is_what_the_cards_generate():
    from instrument.app.library import installed
    from instrument.train.report import render as report

    assert (PROJECT / "docs" / "models.md").read_text() == report(installed())


@pytest.mark.parametrize("page, line", [x for x in LINES if x[1].startswith(".venv/bin/python bench/")])
def test_every_benchmark_in_the_docs_exists_with_its_flags(page, line):
    script, *args = shlex.split(line)[1:]
    source = (PROJECT / script).read_text()
    for flag in (a for a in args if a.startswith("--")):
        assert f'"{flag}"' in source, f"{page}: `{line}`: {script} has no {flag}"


def _architecture_row(what: str) -> str:
    text = (PROJECT / "docs" / "architecture.md").read_text()
    return next(line for line in text.splitlines() if line.startswith(f"| a **{what}**"))


def test_architecture_names_every_parameter_table_and_every_tag():
    from instrument.params import CONTROLS, TAGS
    from instrument.tree import TABLES

    row = _architecture_row("parameter")
    for tag in TAGS:
        assert f"`{tag}`" in row, tag
    for table in TABLES:
        if table is CONTROLS:
            continue
        module = next(m for m in list(sys.modules.values())
                      if getattr(m, "PARAMS", None) is table and m.__name__.startswith("instrument."))
        assert "`" + module.__name__.removeprefix("instrument.").replace(".", "/") + ".py`" in row


def test_architecture_names_every_decoder_stage():
    from instrument.core.ensemble import Ensemble
    from instrument.core.model import CharLSTM, ModelConfig
    from instrument.engine import Engine

    engine = Engine(Ensemble([CharLSTM(ModelConfig(1, 8, dropout=0.0)).eval()], ["a"]))
    row = _architecture_row("decoder stage")
    named = set(re.findall(r"`(core/\w+\.py)`", row)) - {"core/stages.py"}
    assert named == {type(s).__module__.removeprefix("instrument.").replace(".", "/") + ".py" for s in engine.stages}


def test_architecture_says_a_mixing_rule_is_a_Rule_in_RULES():
    from instrument.core.mixing import RULES, Rule

    row = _architecture_row("mixing rule")
    assert "`Rule`" in row and "`RULES`" in row and "`core/mixing.py`" in row
    assert all(isinstance(rule, Rule) for rule in RULES.values())
