"""`python -m compare`: see compare/cli.py and docs/compare.md.

OpenMP threads that wait by spinning turn a busy machine's timings into noise (a 30 ms
fwd+bwd took seconds when other processes held the cores), so unless the caller chose a wait
policy, waiting threads sleep. libgomp reads this once, when torch loads it: hence here,
before the first import of torch.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from compare.cli import main  # noqa: E402  (after the environment is set)

raise SystemExit(main())
