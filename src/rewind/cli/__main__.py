"""``python -m rewind.cli``: the ``rewind`` command."""

from __future__ import annotations

import sys

from rewind.cli.app import main

sys.exit(main())
