"""The ensemble's C kernel, an optional extension: without a C compiler (or off x86-64) the install
still succeeds and the engine steps the ensemble with torch instead, slower. And the shipped
models, presets and mappings, which `pip install .` copies to <prefix>/share/instrument/ (where
instrument/paths.py looks when it does not run from a checkout). Everything else about the
package is in pyproject.toml."""
import sys
from pathlib import Path

from setuptools import Extension, setup

unix = sys.platform != "win32"
kernel = Extension("instrument.core._lstm_kernel", sources=["instrument/core/_lstm_kernel.c"],
                   extra_compile_args=["-O3", "-std=c11", "-pthread"] if unix else ["/O2"],
                   extra_link_args=["-pthread"] if unix else [], optional=True)
memory = Extension("instrument.core._memory_kernel", sources=["instrument/core/_memory_kernel.c"],
                   extra_compile_args=["-O3", "-std=c11"] if unix else ["/O2"], optional=True)


def shipped(folder: str, patterns: tuple[str, ...]) -> tuple[str, list[str]]:
    files = sorted(str(p) for pattern in patterns for p in Path(folder).glob(pattern) if p.is_file())
    return f"share/instrument/{folder}", files


data = [shipped("models", ("*.safetensors", "*.yaml", "*.memory")), shipped("presets", ("*.yaml",)),
        shipped("mappings", ("*.yaml", "*.tosc"))]
setup(ext_modules=[kernel, memory], data_files=[entry for entry in data if entry[1]])
