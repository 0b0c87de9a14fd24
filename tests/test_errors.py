"""The error tree: what each error is a kind of decides the exit status ``cli.main`` gives."""

from __future__ import annotations

import pytest

from inspector.errors import ConnectionLost, NotAnswering, RequestTimedOut, ResinspectError
from tests.cli_helpers import assert_one_line_error, run_cli


def test_a_timed_out_request_is_a_lost_connection_with_its_exit_status() -> None:
    err = RequestTimedOut("no answer from /r/1.sock within 5 s")
    assert isinstance(err, ConnectionLost)
    assert isinstance(err, ResinspectError)
    assert err.exit_code == ConnectionLost("x").exit_code == 1
    assert not issubclass(RequestTimedOut, NotAnswering)  # a blind timeout is no verdict
    assert str(err) == "no answer from /r/1.sock within 5 s"


def test_the_cli_reports_a_timeout_in_one_line_with_status_1(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def timed_out(*args: object, **kwargs: object) -> None:
        raise RequestTimedOut("no answer from /r/resinspect/4242.sock within 5 s")

    # The edge: finding the application is where the request would have timed out.
    monkeypatch.setattr("inspector.server.discovery.find_app", timed_out)
    outcome = run_cli("snapshot", "--pid", "4242")
    assert_one_line_error(outcome, "no answer from /r/resinspect/4242.sock within 5 s", 1)
