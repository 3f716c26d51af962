"""The gradient-flow lab: vanishing and exploding gradients, measured per step by our own BPTT.

    python -m tasks.gradients train --cell lstm --seq-len 100         # one network, adding problem
    python -m tasks.gradients train --cell rnn --nonlinearity relu --init identity   # the IRNN
    python -m tasks.gradients train --problem copy --cell gru --seq-len 50   # copy memory
    python -m tasks.gradients lab                                     # the four experiments
    python -m tasks.gradients lab --smoke --experiments init          # seconds

One job per file:

- ``adding.py``: the adding problem's batches, a function of the step; its yardstick;
- ``copying.py``: the copy-memory task's batches; its memoryless yardstick;
- ``config.py``: ``AddingConfig`` and its presets, ``LabConfig``, the lab's plan and rows;
- ``model.py``: the many-to-one network and the task the shared loop trains;
- ``train.py``: what the loop trains, the end of a run, ``smoke_losses`` for compare;
- ``flow.py``: ‖dL/dh_t‖ per step from ``record_state_grads``, and the bound on it;
- ``jacobian.py``: σ_max of each step's Jacobian, by power iteration on the backward step;
- ``runs.py``: one training run in the lab's folder, reused when finished;
- ``lab.py``: the experiments, ``copy_lab.py`` the fourth; ``figures.py``, ``tables.py``: what
  they show;
- ``cli.py``: the command line, on the shared scaffolding (tasks/cli.py).

See docs/gradients.md.
"""

from tasks.gradients.cli import main
from tasks.gradients.config import PRESETS, AddingConfig
from tasks.gradients.train import smoke_losses

__all__ = ["PRESETS", "AddingConfig", "main", "smoke_losses"]
