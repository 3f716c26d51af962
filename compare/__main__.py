"""`python -m compare`: see compare/cli.py and docs/compare.md."""

from compare.cli import main

raise SystemExit(main())
