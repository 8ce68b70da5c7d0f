"""``python -m skclr``: see :mod:`skclr.cli`."""

import sys

from skclr.cli import main

sys.exit(main())
