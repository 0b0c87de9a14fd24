"""Time and fleet: recordings, diffs with budgets, and one exporter for every application.

- :mod:`.recording` writes and reads recordings (NDJSON, one snapshot a line) and paces a
  replay;
- :mod:`.diff` says what grew between two snapshots, keyed by component and type;
- :mod:`.budgets` parses and checks ``--fail-on`` rules against two snapshots;
- :mod:`.exporter` serves every live application's metrics to Prometheus over HTTP;
- :mod:`.output` writes output files, :mod:`.snapshot_file` encodes and saves a snapshot.

Nothing here imports Qt (the CLI uses all of it), and submodules are imported by their users
only: ``inspector.fleet`` itself loads nothing.
"""
