"""MNIST-1D (Greydanus 2020): which digit a 40-step signal draws, many to one.

    python -m tasks.patterns digits train                   # the default preset, on scratch
    python -m tasks.patterns digits train --cell lstm       # another cell
    python -m tasks.patterns.digits.table                   # the docs' table: cells × seeds

config.py      DigitsConfig and its presets
data.py        the mnist1d package's generator, its published defaults, nothing downloaded
model.py       the signal, one number a step -> impl.RNN/LSTM/GRU -> h_n -> linear
yardsticks.py  the majority class, a logistic regression, the published numbers
train.py       the task the shared loop runs; smoke_losses for compare
report.py      the test table and the figures
table.py       many runs (cells × seeds) into one table: mean ± spread
"""

from tasks.patterns.digits.config import PRESETS, DigitsConfig
from tasks.patterns.digits.train import TRAINER, smoke_losses

__all__ = ["PRESETS", "TRAINER", "DigitsConfig", "smoke_losses"]
