"""What one date-translation run is: ``DatesConfig`` and its presets by name."""

from dataclasses import dataclass

from tasks.config import at_least, option
from tasks.errors import BadInput
from tasks.patterns.config import SMOKE, DecodingConfig
from tasks.patterns.seq2seq import dates


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

    def check(self) -> None:
        """The one-step cell (``DecodingConfig``), and as many dates as the years hold: the
        held-out dates are days of the training years that training never sees, so they must
        leave days over; the training dates, writings of those days."""
        super().check()
        days = dates.days(dates.WINDOW)
        if self.held_out_pairs >= days:
            raise BadInput(
                f"--held-out-pairs {self.held_out_pairs}: the training years {dates.WINDOW[0]}–"
                f"{dates.WINDOW[1]} hold {days} days, and the held-out dates must leave some to "
                f"train on: give fewer than {days}"
            )
        writings = days * len(dates.FORMATS) * len(dates.CASES)
        if self.train_pairs > writings:
            raise BadInput(
                f"--train-pairs {self.train_pairs}: the training years can be written in "
                f"{writings} ways: give at most that many"
            )


PRESETS = {
    # the run measured in docs/patterns.md: about 2,000 training dates
    "default": DatesConfig(),
    # ten times the data: both models end up near-perfect
    "large": DatesConfig(train_pairs=20000, steps=3000),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": DatesConfig(**SMOKE, attention_size=8, train_pairs=64, held_out_pairs=32),
}
