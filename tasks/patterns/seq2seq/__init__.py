"""Asynchronous many to many: dates written in many human forms, translated into ISO dates by
an encoder–decoder with additive (Bahdanau) attention and teacher forcing.

    python -m tasks.patterns seq2seq train                     # the default preset, 2,000 dates
    python -m tasks.patterns seq2seq train --no-attention      # the encoder's final state only
    python -m tasks.patterns seq2seq train --preset large      # 20,000 dates

dates.py   thirty formats, three cases, the century window, the splits
config.py  DatesConfig and its presets
model.py   bidirectional encoder -> bridge -> decoder (tasks/patterns/decoder.py)
train.py   the task the shared loop runs; smoke_losses for compare
report.py  exact match per split and format; attention heat maps
"""

from tasks.patterns.seq2seq.config import PRESETS, DatesConfig
from tasks.patterns.seq2seq.train import TRAINER, smoke_losses

__all__ = ["PRESETS", "TRAINER", "DatesConfig", "smoke_losses"]
