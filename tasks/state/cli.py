"""``python -m tasks.state train ...`` and ``python -m tasks.state lab ...``.

``train``'s flags are generated from ``StateConfig`` (tasks/cli.py), ``lab``'s from
``LabConfig``; both end badly in one line (exit status 2 for bad input)."""

from tasks import cli
from tasks.state import lab
from tasks.state.config import PRESETS, LabConfig, StateConfig
from tasks.state.train import finish, prepare

TRAINER = cli.Trainer(
    name="state",
    about="a network that tracks parity or a sum mod 5",
    config=StateConfig,
    presets=PRESETS,
    default_preset="default",
    build=prepare,
    finish=finish,
)


def main(argv: list[str] | None = None) -> int:
    """Run ``train`` or ``lab``; returns the exit status."""
    description = (
        "State tracking: parity and the sum of digits mod 5, trained on length 40 and tested "
        "up to 256. What a linear recurrence with a positive transition cannot count."
    )
    command = cli.Command(
        "lab",
        "every network of the table on both problems, then the table and figure",
        LabConfig,
        lab.run,
    )
    return cli.main(argv, "python -m tasks.state", description, TRAINER, command)
