"""State tracking: what a recurrence can count. docs/state.md.

    python -m tasks.state train --problem parity --cell lstm       # one network
    python -m tasks.state lab                                      # the table and the figure
    python -m tasks.state lab --smoke                              # seconds

One job per file: ``data.py`` the problems and their batches; ``config.py`` ``StateConfig``,
its presets, ``LabConfig`` and the table's rows; ``model.py`` the network and the task the
shared loop trains; ``train.py`` a run's end and ``smoke_losses``; ``lab.py`` every row in its
run folder; ``figures.py`` the table and the figure; ``cli.py`` the command line.
"""

from tasks.state.cli import main
from tasks.state.config import PRESETS, StateConfig
from tasks.state.train import smoke_losses

__all__ = ["PRESETS", "StateConfig", "main", "smoke_losses"]
