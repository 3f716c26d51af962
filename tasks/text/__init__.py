"""Character-level text generation: an RNN, LSTM or GRU learns Shakespeare one character at a time.

    python -m tasks.text train --preset default          # or --smoke, --impl scratch, --cell gru
    python -m tasks.text sample --checkpoint runs/text/<run>/checkpoint.pt --prime "ROMEO:"

config.py  TextConfig and its presets, SampleConfig: the flags of train and sample
corpus.py  where the text comes from and how it is split
data.py    characters <-> ids; the streams and windows of truncated BPTT (with a picture)
model.py   embedding -> impl.RNN/LSTM/GRU -> linear, and sampling
train.py   the task the shared loop (tasks/loop.py) runs; smoke_losses for compare
cli.py     the command line, on the shared scaffolding (tasks/cli.py)
"""

from tasks.text.cli import main
from tasks.text.config import PRESETS, TextConfig
from tasks.text.train import smoke_losses

__all__ = ["PRESETS", "TextConfig", "main", "smoke_losses"]
