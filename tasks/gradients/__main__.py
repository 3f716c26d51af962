"""``python -m tasks.gradients``: see tasks/gradients/cli.py."""

import sys

from tasks.gradients.cli import main
from tasks.gradients.model import flush_subnormals

flush_subnormals()
sys.exit(main())
