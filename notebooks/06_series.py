# %% [markdown]
# # Series: sliding windows, and a forecast beside its yardsticks
#
# The lesson to run beside *Series* (`docs/series.md`, [on the site](../../series/)), which
# explains the splits, the scaling and the full results. Here you cut a short series into
# examples with the task's own `make_windows`, then train the `smoke` preset and read its
# table: the network on one line, the yardsticks (naive, seasonal naive, linear
# autoregression) on the others.

# %%
import tempfile
from pathlib import Path

import numpy as np

import learn
from tasks.series.cli import main as series
from tasks.series.windows import make_windows

values = np.arange(10.0)[:, None]  # one column: 0, 1, …, 9
windows = make_windows(values, window=4, horizon=2, lo=0, hi=len(values))
print("inputs", windows.inputs.shape, "targets", windows.targets.shape)
for inputs, targets in zip(windows.inputs[:3], windows.targets[:3], strict=True):
    print(inputs[:, 0], "→", targets[:, 0])

# %% [markdown]
# Example e looks 4 steps back and 2 ahead; the next example is the same frame slid one step.
#
# ## The smoke run
#
# A model of 8 units for one epoch of the weekly CO2 series: what CI runs. Read its row against
# the yardsticks': one epoch is no match for the linear fits. The page's 60-epoch run is the
# one that beats them all 52 steps ahead.

# %%
runs = Path(tempfile.mkdtemp())
series(["train", "--smoke", "--impl", "scratch", "--no-progress", "--out", str(runs / "smoke")])

# %% [markdown]
# The labels of the exercise: (W1) inputs[e] = x[e], …, x[e + W − 1]; (W2) targets[e] =
# x[e + W], …, x[e + W + K − 1], the K rows right after them.

# %% [markdown]
# ## Exercise: sliding_windows (W1, W2)
#
# Every example of a series: W inputs, then the K values that follow as targets, the frame slid one step at a time.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check sliding_windows FILE.py`.
#
# *Hint*: E = T − W − K + 1 examples. A loop over e with values[e : e + W] is fine; Tensor.unfold
# does it in one call.


# %%
def sliding_windows(values, window, horizon):
    """Every example of a series: W inputs, then the K values that follow as targets, the
    frame slid one step at a time.

    values: (T, C), oldest first; window W and horizon K: ints. Returns inputs (E, W, C) and
    targets (E, K, C), with E = T − W − K + 1 examples; example e starts at row e.
    """
    # your code here: compute and return inputs, targets
    raise NotImplementedError


learn.check(sliding_windows)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution sliding_windows` prints ours, as a file that `check` accepts.
#
# </details>
