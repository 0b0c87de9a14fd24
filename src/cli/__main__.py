"""``python -m cli``: the same as the ``resinspect`` console script."""

from cli.entry import main

raise SystemExit(main())
