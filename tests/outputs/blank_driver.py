"""A real projection window blanked, shown again, then cleared:
`python -m tests.outputs.blank_driver DIR`."""
from __future__ import annotations

from pathlib import Path

from .window_driving import drive, report, until


def main(folder: str) -> dict:
    out = Path(folder)

    def script(engine, projection, seen) -> None:
        def shot(name: str) -> None:
            drawn = projection.frames_drawn
            until(lambda: projection.frames_drawn >= drawn + 3)
            projection.screenshot(str(out / name))
            until(lambda: (out / name).exists())

        until(lambda: len(projection.layout.lines) > 20)
        engine.params.set("/run", False)
        shot("text.png")
        engine.params.set("/project/blank", True)
        shot("blank.png")
        engine.params.set("/project/blank", False)
        shot("again.png")
        engine.params.set("/project/clear")
        shot("cleared.png")
        seen["lines_after_clear"] = len(projection.layout.lines)

    return drive(script)


if __name__ == "__main__":
    report(main)
