"""resinspect's pytest plugin (entry point ``pytest11``): leaks fail tests.

Inert unless ``--resinspect`` is given (or ``resinspect = true`` in the ini file): this module
then adds its options, its marker and two fixtures, and imports nothing but pytest - no Qt,
no resinspect module - so a run without the flag costs nothing. With the flag,
:class:`inspector.testing.session.Session` is registered and every test is checked:

- ``@pytest.mark.resinspect("workers>0", "instances:ResultsTab>0")``: budget rules, read as
  ``resinspect diff --fail-on`` reads them with A = the snapshot when the test starts and B =
  after its teardown and a collection;
- every test that passed is checked for QThreads still running, QTimers still active and
  top-level widgets still alive that it started or created, each named with its site and
  what keeps it alive;
- ``--resinspect-report=DIR`` keeps A and B of every test that leaked or broke a budget as
  ``<test>.before.json`` and ``<test>.after.json``, which ``resinspect diff`` reads.

The fixture ``resinspect`` (``.snapshot()``, ``.repeat(action, undo, times=5)``) works with or
without the flag: a test that calls it asks for the check. It reads the service the fixture
``resinspect_service`` gives - the process's shared service unless a project overrides it,
as a project that builds a service per test does::

    @pytest.fixture
    def resinspect_service(service):
        return service

See docs/testing.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from inspector.resources import IResourceManagementService
    from inspector.testing.fixture import Resinspect

#: The name the active part is registered under.
ACTIVE = "resinspect-session"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("resinspect", "resinspect: tests that leak fail")
    group.addoption(
        "--resinspect", action="store_true", default=None,
        help="Check every test for leaks: resinspect marker rules, and QThreads, QTimers and "
             "top-level widgets a passed test left running or alive.")
    group.addoption(
        "--resinspect-report", metavar="DIR", default=None,
        help="Write <test>.before.json and <test>.after.json snapshots of every test that "
             "leaked or broke a budget in DIR (implies --resinspect).")
    parser.addini("resinspect", type="bool", default=False,
                  help="Check every test for leaks, as --resinspect does.")


def enabled(config: pytest.Config) -> bool:
    """Whether this run checks tests (``--resinspect``, a report directory, or the ini)."""
    if config.getoption("resinspect") or config.getoption("resinspect_report"):
        return True
    return bool(config.getini("resinspect"))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "resinspect(*rules): budget rules checked from the test's start to its end under "
        "--resinspect, e.g. resinspect('workers>0', 'instances:ResultsTab>0')")
    if enabled(config):
        from inspector.testing.session import Session

        config.pluginmanager.register(Session(config), ACTIVE)


@pytest.fixture
def resinspect_service() -> IResourceManagementService:
    """The resource service the ``resinspect`` fixture and markers read.

    By default the process's shared service (under ``--resinspect``, a fresh one made for the
    session). Override it to inject the service your tests build.
    """
    from inspector.resources import IResourceManagementService, get_service

    return get_service(IResourceManagementService)


@pytest.fixture
def resinspect(request: pytest.FixtureRequest,
               resinspect_service: IResourceManagementService) -> Iterator[Resinspect]:
    """Snapshots of the test's service and ``repeat(action, undo, times=5)``."""
    from inspector.testing.fixture import Resinspect

    fixture = Resinspect(resinspect_service, app=request.node.name)
    yield fixture
    # Under --resinspect the session still reads it after the teardown, then closes it.
    if not request.config.pluginmanager.has_plugin(ACTIVE):
        fixture.close()
