"""The `instrument` command: thin wiring from flags to the pieces that do the work (one module per
group of commands)."""
from __future__ import annotations

import argparse
import sys

from .play import add_play
from .styles import add_models, add_sample, add_score, add_train, add_train_styles
from .tools import add_describe, add_midi, add_panel, add_replay, add_touchosc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="instrument", description="A text instrument: an ensemble of character-level LSTMs, each trained on "
        "one corpus, mixed live by faders (MIDI, OSC, the panel) while it writes. Start with `instrument play`; "
        "each command's --help is its manual.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (add_play, add_panel, add_replay, add_models, add_score, add_sample, add_describe, add_touchosc,
                add_midi, add_train, add_train_styles):
        add(sub)
    for p in (parser, *sub.choices.values()):
        p.allow_abbrev = False  # `--preset x` once set the preset *folder* to x (an abbreviation of --presets)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
