"""Synchronised many to many: Shakespeare's lines, lower-cased and unpunctuated, get their
case and punctuation back, one decision per character.

    python -m tasks.patterns many-to-many train                           # bidirectional
    python -m tasks.patterns many-to-many train --preset unidirectional   # as many parameters

data.py    the input, the labels from the corpus, windows of whole lines
config.py  RestoreConfig and its presets
model.py   embedding -> impl.RNN/LSTM/GRU (one or both directions) -> case and mark heads
rule.py    the yardstick: capitalise line starts and the word "i"; no punctuation
train.py   the task the shared loop runs; smoke_losses for compare
report.py  F1 per class beside the rule; a few lines restored
"""

from tasks.patterns.many_to_many.config import PRESETS, RestoreConfig
from tasks.patterns.many_to_many.train import TRAINER, smoke_losses

__all__ = ["PRESETS", "TRAINER", "RestoreConfig", "smoke_losses"]
