"""What one date-translation run is: ``DatesConfig`` and its presets by name."""

from dataclasses import dataclass

from tasks.config import at_least, option
from tasks.patterns.config import SMOKE, DecodingConfig


@dataclass
class DatesConfig(DecodingConfig):
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    hidden_size: int = 64  # H: width of each encoder direction's h_t and of the decoder's s_t
    train_pairs: int = option(2000, check=at_least(1))  # dates in the training split
    held_out_pairs: int = option(1000, check=at_least(1))  # dates in each held-out split: of the training years, and of others
    attention: bool = True  # additive attention over the encoder's outputs; --no-attention: the decoder has only the encoder's final state
    attention_size: int = option(64, check=at_least(1))  # A: width of the attention's hidden layer (W_s, W_h, v)
    steps: int = 1500  # optimizer steps in the run (a --resume may raise it)
    # fmt: on


PRESETS = {
    # the run measured in docs/patterns.md: about 2,000 training dates
    "default": DatesConfig(),
    # ten times the data: both models end up near-perfect
    "large": DatesConfig(train_pairs=20000, steps=3000),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": DatesConfig(**SMOKE, attention_size=8, train_pairs=64, held_out_pairs=32),
}
