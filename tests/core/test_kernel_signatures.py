"""The ctypes table (groups.SIGNATURES) says what _lstm_kernel.c declares: a parameter added in C
and not in Python would shift every pointer after it, which no other test would see as such."""
from __future__ import annotations

import ctypes
import re
from pathlib import Path

from instrument.core.groups import SIGNATURES

C_FILE = Path(__file__).resolve().parents[2] / "instrument" / "core" / "_lstm_kernel.c"


def _declared() -> dict[str, tuple]:
    """Each EXPORTed function's (return type, [(parameter, int or pointer)]), from its first
    (real, not stub) definition in the C file."""
    out = {}
    for ret, name, params in re.findall(r"EXPORT\s+(int|void)\s+(ens_\w+)\(([^)]*)\)", C_FILE.read_text()):
        if name in out:
            continue  # the stubs of a build without AVX2 come second
        parsed = []
        for param in filter(None, (p.strip() for p in params.split(","))):
            if param == "void":
                continue
            parsed.append((re.findall(r"\w+", param)[-1], "pointer" if "*" in param else "int"))
        out[name] = (ret, parsed)
    return out


def test_every_exported_function_is_in_the_table_with_its_c_signature():
    declared = _declared()
    assert set(declared) == set(SIGNATURES)
    for name, (ret, params) in declared.items():
        restype, table = SIGNATURES[name]
        assert (restype is None) == (ret == "void"), name
        kinds = [(p, "pointer" if kind is ctypes.c_void_p else "int") for p, kind in table]
        assert kinds == params, name
