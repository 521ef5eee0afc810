"""The shipped styles' training recipes (models/recipes.yaml), run in order and resumably."""
from __future__ import annotations

from pathlib import Path

from ..base.files import FileProblem, read_yaml
from . import TrainingError
from .run import train_command

RECIPE_KEYS = {"corpus", "arch", "minutes", "epochs", "eval_every", "description", "lr", "dropout", "batch",
               "init", "ship"}


def load_recipes(path: Path) -> dict[str, dict]:
    """Read and check recipes: name -> {corpus, arch, minutes|epochs, description, ...}."""
    try:
        recipes = read_yaml(path) or {}
    except FileProblem as e:
        raise TrainingError(f"cannot read recipes: {e}") from None
    if not isinstance(recipes, dict):
        raise TrainingError(f"{path}: expected a mapping of style name -> recipe")
    for name, recipe in recipes.items():
        unknown = set(recipe) - RECIPE_KEYS
        if unknown or "corpus" not in recipe:
            raise TrainingError(f"{path}: recipe '{name}' has unknown keys {sorted(unknown)} or no corpus")
    return recipes


def starting_weights(init: str | None, name: str, runs: Path, out_dir: Path) -> Path | None:
    """Where a recipe's run starts: from scratch (None), from the style as installed now
    ("installed": a style retrained from what it was, as this round's were), from another installed
    style ("installed:speeches": Chilcot's report is fine-tuned from the speeches), or from a base run."""
    if not init:
        return None
    if init == "installed" or init.startswith("installed:"):
        return out_dir / f"{init.partition(':')[2] or name}.safetensors"
    return runs / init / "best.safetensors"


def train_styles(recipes: dict[str, dict], names: list[str], corpora: Path, out_dir: Path,
                 runs: Path) -> int:
    """Train (or resume, or just export) each named style; stops at the first failure."""
    for name in names or list(recipes):
        if name not in recipes:
            raise TrainingError(f"no recipe for '{name}'; known: {', '.join(recipes)}")
        r = recipes[name]
        run_dir = runs / name
        overrides = {k: r.get(k) for k in ("minutes", "epochs", "lr", "dropout", "batch")}
        if r.get("eval_every"):
            overrides.update(eval_every_s=r["eval_every"], ckpt_every_s=r["eval_every"])
        files = r["corpus"] if isinstance(r["corpus"], list) else [r["corpus"]]
        init = starting_weights(r.get("init"), name, runs, out_dir)
        code = train_command([corpora / f for f in files], name, r.get("arch"),
                             out_dir if r.get("ship", True) else None, run_dir,
                             resume=(run_dir / "last.safetensors").exists(),
                             description=r.get("description"), init=init, **overrides)
        if code:
            return code
    return 0
