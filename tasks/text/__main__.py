"""``python -m tasks.text``: see tasks/text/cli.py."""

import sys

from tasks.text.cli import main

sys.exit(main())
