"""``inspector.resources.shutdown``: signals left to the default, in this process.

The exit paths themselves (a signal inside a blocked ``print()``, every way out of a real
application) are end-to-end tests in ``tests/reliability/test_lifecycle.py``.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QCoreApplication

from inspector.resources.shutdown import GracefulSignals, after_loop


@pytest.fixture
def graceful(qapp: QCoreApplication) -> Iterator[GracefulSignals]:
    before = {s: signal.getsignal(s) for s in GracefulSignals.DEFAULTS}
    if any(before[s] is not d for s, d in GracefulSignals.DEFAULTS.items()):
        pytest.fail(f"this test needs the default signal dispositions, found {before}")
    handler = GracefulSignals().install()
    yield handler
    handler.restore()
    assert {s: signal.getsignal(s) for s in GracefulSignals.DEFAULTS} == before


def test_takes_over_only_signals_left_to_the_default(graceful: GracefulSignals) -> None:
    assert set(graceful.signals) == {signal.SIGTERM, signal.SIGINT}
    assert signal.getsignal(signal.SIGTERM) == graceful._record
    # The wake-up fd is ours while installed: the C handler writes the signal number there.
    assert signal.set_wakeup_fd(-1) == graceful._write_fd
    signal.set_wakeup_fd(graceful._write_fd)


def test_without_a_running_event_loop_ctrl_c_is_still_keyboardinterrupt(
        graceful: GracefulSignals) -> None:
    # No exec() runs in a test: nobody would hand the signal to a loop, so the default applies.
    # CPython runs the handler as the kill() call returns, inside it as far as Python sees.
    with pytest.raises(KeyboardInterrupt):
        os.kill(os.getpid(), signal.SIGINT)
    assert graceful.received is None


def test_an_application_handler_is_left_alone(qapp: QCoreApplication) -> None:
    def mine(signum: int, frame: object) -> None:
        pass

    previous = signal.signal(signal.SIGTERM, mine)
    try:
        handler = GracefulSignals().install()
        assert signal.SIGTERM not in handler.signals
        assert signal.getsignal(signal.SIGTERM) is mine
        handler.restore()
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_after_loop_needs_an_application_and_holds_bound_methods_weakly(
        qapp: QCoreApplication) -> None:
    class Owner:
        def work(self) -> None:
            raise AssertionError("never called: the loop does not end in this test")

    import weakref

    owner = Owner()
    ref = weakref.ref(owner)
    assert after_loop(owner.work) is True
    del owner
    assert ref() is None, "after_loop kept its registrant alive"
