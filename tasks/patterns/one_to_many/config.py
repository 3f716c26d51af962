"""What one captioning run is: ``CaptionConfig`` and its presets by name."""

from dataclasses import dataclass

from tasks.config import at_least, option
from tasks.patterns.config import SMOKE, DecodingConfig

HOLDOUTS = ("combinations", "pairings")  # see scenes.py


@dataclass
class CaptionConfig(DecodingConfig):
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    holdout: str = option("combinations", choices=HOLDOUTS)  # combinations: a fifth of the two-object combinations never in training | pairings: three colour-shape pairings never in training
    held_out_scenes: int = option(600, check=at_least(1))  # held-out scenes scored (drawn once, from a fixed seed)
    steps: int = 3000  # optimizer steps in the run (a --resume may raise it)
    eval_every: int = 500  # steps between held-out evaluations
    checkpoint_every: int = 500  # steps between checkpoints
    # fmt: on


PRESETS = {
    # the run measured in docs/patterns.md
    "default": CaptionConfig(),
    # the experiment: whole colour-shape pairings never seen in training
    "pairings": CaptionConfig(holdout="pairings"),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": CaptionConfig(**SMOKE, held_out_scenes=32),
}
