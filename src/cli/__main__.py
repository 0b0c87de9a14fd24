"""``python -m cli``: the same as the ``resinspect`` console script."""

from cli.main import main

raise SystemExit(main())
