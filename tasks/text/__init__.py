"""Character-level text generation: an RNN, LSTM or GRU learns Shakespeare one character at a time.

    python -m tasks.text train --preset default          # or --smoke, --impl scratch, --cell gru
    python -m tasks.text sample --checkpoint runs/text/<run>/checkpoint.pt --prime "ROMEO:"

corpus.py  where the text comes from and how it is split
data.py    characters <-> ids; the streams and windows of truncated BPTT (with a picture)
model.py   embedding -> impl.RNN/LSTM/GRU -> linear, and sampling
train.py   TextConfig and its presets, the task the shared loop (tasks/loop.py) runs
cli.py     the command line
"""

from tasks.text.cli import main
from tasks.text.train import PRESETS, TextConfig, smoke_losses

__all__ = ["PRESETS", "TextConfig", "main", "smoke_losses"]
