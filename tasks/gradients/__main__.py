"""``python -m tasks.gradients``: see tasks/gradients/cli.py."""

import sys

from tasks.gradients.cli import main

sys.exit(main())
