"""The threads' frames as roots, and the references their fast locals hold unseen."""

from __future__ import annotations

import sys
import threading

from inspector.metrics.why.threadframes import PACKAGE, thread_frames

from ..helpers import Thing


def test_another_threads_locals_are_named_and_counted() -> None:
    kept = Thing()
    holding = threading.Event()
    release = threading.Event()

    def keep(held: object) -> None:
        holding.set()
        release.wait(10)
        del held

    thread = threading.Thread(target=keep, args=(kept,), name="keeper")
    thread.start()
    callers: set[int] = set()
    try:
        assert holding.wait(5)
        frame_dicts, fast, _skipped, dicts = thread_frames(
            threading.get_ident(), sys._getframe(), callers)
    finally:
        release.set()
        thread.join(5)
    names = list(frame_dicts.values())
    assert any("keep (" in name and name.endswith("in thread keeper") for name in names)
    # Held in the keeper's fast local and in this test's: no container shows either.
    assert fast[id(kept)] >= 2
    assert len(dicts) == len(frame_dicts)
    # This test's own frames are outside the package: roots of their own kind.
    assert callers
    assert callers <= set(frame_dicts)


def test_the_package_is_the_inspector_package() -> None:
    import inspector

    assert inspector.__file__ is not None
    assert inspector.__file__.rsplit("/", 1)[0] == PACKAGE
