"""``python -m tasks.state``: see tasks/state/cli.py."""

import sys

from tasks.gradients.model import flush_subnormals
from tasks.state.cli import main

flush_subnormals()
sys.exit(main())
