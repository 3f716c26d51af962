"""``python -m tasks.gradients train ...`` and ``python -m tasks.gradients lab ...``.

``train``'s flags are generated from ``AddingConfig`` (tasks/cli.py), ``lab``'s from
``LabConfig``; both end badly in one line (exit status 2 for bad input).
"""

from tasks import cli
from tasks.gradients import lab
from tasks.gradients.config import PRESETS, AddingConfig, LabConfig
from tasks.gradients.train import finish, prepare

TRAINER = cli.Trainer(
    name="gradients",
    about="a network on the adding problem",
    config=AddingConfig,
    presets=PRESETS,
    default_preset="default",
    build=prepare,
    finish=finish,
)


def main(argv: list[str] | None = None) -> int:
    """Run ``train`` or ``lab``; returns the exit status."""
    description = (
        "The gradient-flow lab: how much gradient BPTT carries back through time, measured "
        "step by step by our own backward pass; the adding problem."
    )
    command = cli.Command(
        "lab",
        "run the four experiments (at initialisation, the adding problem, exploding, copy memory)",
        LabConfig,
        lab.run,
    )
    return cli.main(argv, "python -m tasks.gradients", description, TRAINER, command)
