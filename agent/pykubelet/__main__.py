"""``python -m pykubelet`` is the same as the ``pykubelet`` console script."""

from pykubelet.cli import main

raise SystemExit(main())
