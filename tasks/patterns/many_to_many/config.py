"""What one case-and-punctuation run is: ``RestoreConfig`` and its presets by name.

The unidirectional preset has about as many parameters as the bidirectional default: one
direction of ``UNIDIRECTIONAL_SIZE`` units against two of ``hidden_size`` (a test holds the
two counts within 1 % of each other), so the comparison is of reading order, not of size.
"""

from dataclasses import dataclass

from tasks.config import at_least, option
from tasks.patterns.config import SMOKE, TrainingConfig

UNIDIRECTIONAL_SIZE = 97  # H of a one-way tagger as large as the default two-way one


@dataclass
class RestoreConfig(TrainingConfig):
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    hidden_size: int = 64  # H: width of each direction's h_t (and of the LSTM's cell state c_t)
    bidirectional: bool = True  # read each window both ways: a letter's case can then depend on the rest of its word
    num_layers: int = 1  # recurrent layers stacked on each other
    seq_len: int = 128  # T: characters per window (whole lines; see data.py)
    held_out_windows: int = option(1500, check=at_least(0))  # score this many held-out windows, drawn once at random (seed 0); 0 = all
    # fmt: on


PRESETS = {
    # the run measured in docs/patterns.md: the bidirectional tagger
    "default": RestoreConfig(),
    # the same number of parameters, reading left to right only
    "unidirectional": RestoreConfig(bidirectional=False, hidden_size=UNIDIRECTIONAL_SIZE),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": RestoreConfig(**SMOKE, held_out_windows=32),
}
