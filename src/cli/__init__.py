"""The ``resinspect`` command line tool.

One thin module per subcommand in :mod:`cli.commands`, loaded only when that command runs;
:mod:`cli.reader` is the seam to live applications (its ``Readers`` ride in click's
``ctx.obj``); recordings are read by ``inspector.fleet.recording``; :mod:`cli.render` builds
rich renderables, one module per view, and never prints; :mod:`cli.main` is the only place
that turns errors into exit statuses. Nothing here imports Qt (``view`` and ``demo`` aside),
so the tool starts fast.
"""
