"""Leaks fail tests: the pytest plugin's parts (its entry point is ``inspector.pytest_plugin``).

- :mod:`.fixture` - the ``resinspect`` fixture: snapshots and ``repeat(action, undo)``;
- :mod:`.session` - what ``--resinspect`` turns on: marker rules from a test's start to its
  end, and what a passed test left running or alive;
- :mod:`.qtwatch` - QThread and QTimer starts and widget creations, with their sites;
- :mod:`.chains` - what keeps a leaked object alive.

Nothing here is imported unless a test asks for it or ``--resinspect`` is given; the entry
point itself imports only pytest (docs/testing.md).
"""
