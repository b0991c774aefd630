"""``python -m optimiser``: see `optimiser.cli`."""

from __future__ import annotations

import sys

from optimiser.cli import main

sys.exit(main())
