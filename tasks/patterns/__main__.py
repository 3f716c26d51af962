"""``python -m tasks.patterns``: see tasks/patterns/cli.py."""

import sys

from tasks.patterns.cli import main

sys.exit(main())
