"""The kernel's helper threads: shared by every group of a process, each stepping its own share of
the models and then what is left of the others', safe when two threads step at once and in a
forked child."""
from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest

from instrument.core.groups import KernelGroup, kernel_available, usable_cores

from .test_ensemble import TEXT, _weights

pytestmark = pytest.mark.skipif(not kernel_available(), reason="C kernel not built on this machine")

CHARS = np.frombuffer(TEXT, dtype=np.uint8).astype(np.int32)
BIG = ("2x512", "2x512", "2x512")  # ~9 MB of weights: every step is shared out over threads


def test_two_threads_stepping_groups_at_once_get_what_one_thread_gets():
    models = _weights(*BIG)
    expected = KernelGroup(models, threads=1).feed(np.arange(3), CHARS)
    groups = [KernelGroup(models, threads=3) for _ in range(2)]
    out: list = [None, None]

    def play(i: int) -> None:
        for ch in CHARS:  # a step per character: many hand-overs to the helpers
            out[i] = groups[i].feed(np.arange(3), np.array([ch], dtype=np.int32))

    threads = [threading.Thread(target=play, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    for got in out:
        np.testing.assert_allclose(got, expected, atol=1e-6)


def test_a_subset_of_models_and_a_group_wanting_fewer_threads_than_there_are_helpers():
    models = _weights(*BIG, "2x512")
    KernelGroup(models, threads=4).feed(np.arange(4), CHARS[:3])  # three helpers exist from here on
    expected = KernelGroup(models, threads=1).feed(np.array([3, 1]), CHARS)
    np.testing.assert_allclose(KernelGroup(models, threads=2).feed(np.array([3, 1]), CHARS), expected, atol=1e-6)


def test_a_forked_child_steps_with_helpers_of_its_own():
    models = _weights(*BIG)
    parent = KernelGroup(models, threads=3).feed(np.arange(3), CHARS)  # the parent's helpers exist now
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=lambda: results.put(KernelGroup(models, threads=3).feed(np.arange(3), CHARS)))
    child.start()
    try:
        np.testing.assert_allclose(results.get(timeout=60), parent, atol=1e-6)
    finally:
        child.join(timeout=10)
        if child.is_alive():
            child.kill()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no CPU affinity here")
def test_the_default_thread_count_follows_the_cores_this_process_may_use():
    before = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(before)})  # as under `taskset -c 0`
        assert usable_cores() == 1
        assert KernelGroup(_weights("1x32"), precision="fp16").threads == 1
    finally:
        os.sched_setaffinity(0, before)
