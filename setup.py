"""The ensemble's C kernel, an optional extension: without a C compiler (or off x86-64) the install
still succeeds and the engine steps the ensemble with torch instead, slower. Everything else about
the package is in pyproject.toml."""
import sys

from setuptools import Extension, setup

unix = sys.platform != "win32"
kernel = Extension("instrument.core._lstm_kernel", sources=["instrument/core/_lstm_kernel.c"],
                   extra_compile_args=["-O3", "-std=c11", "-pthread"] if unix else ["/O2"],
                   extra_link_args=["-pthread"] if unix else [], optional=True)
setup(ext_modules=[kernel])
