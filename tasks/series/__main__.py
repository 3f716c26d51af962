"""``python -m tasks.series``: see tasks/series/cli.py."""

import sys

from tasks.series.cli import main

sys.exit(main())
