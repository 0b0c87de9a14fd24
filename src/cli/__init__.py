"""The ``resinspect`` command line tool.

One thin module per subcommand in :mod:`cli.commands`, loaded only when that command runs;
:mod:`cli.reader` is the seam to live applications and recordings; :mod:`cli.render` builds
rich renderables and never prints; :mod:`cli.main` is the only place that turns errors into
exit statuses. Nothing here imports Qt (``view`` and ``demo`` aside), so the tool starts fast.
"""
