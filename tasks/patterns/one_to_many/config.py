"""What one captioning run is: ``CaptionConfig`` and its presets by name."""

from dataclasses import dataclass

from tasks.config import at_least, fits_memory, option
from tasks.patterns.config import SMOKE, DecodingConfig
from tasks.patterns.one_to_many.scenes import SIZE

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

    def check(self) -> None:
        """The one-step cell (``DecodingConfig``), and scenes that fit in memory."""
        super().check()
        pixels = 3 * SIZE * SIZE * 4  # float32, and NumPy's float64 while each is drawn
        fits_memory("--held-out-scenes", 2 * self.held_out_scenes * pixels * 3)


PRESETS = {
    # the run measured in docs/patterns.md
    "default": CaptionConfig(),
    # the experiment: whole colour-shape pairings never seen in training
    "pairings": CaptionConfig(holdout="pairings"),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": CaptionConfig(**SMOKE, held_out_scenes=32),
}
