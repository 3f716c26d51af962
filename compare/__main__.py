"""`python -m compare`: see compare/cli.py and docs/compare.md."""

import sys

try:  # Ctrl-C while torch and matplotlib still import (seconds on a busy machine): one line
    from compare.cli import main
except KeyboardInterrupt:
    print("interrupted while starting: nothing was run", file=sys.stderr)
    raise SystemExit(130) from None
raise SystemExit(main())
