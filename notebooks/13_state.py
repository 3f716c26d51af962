# %% [markdown]
# # State tracking: what a recurrence can count
#
# The lesson to run beside *State tracking* (`docs/state.md`, [on the site](../../state/)),
# which sets two problems, parity and a sum mod 5, shows why a linear recurrence whose
# transition lies in (0, 1) cannot swap two states, and measures which networks hold the rule
# out to length 256. Here you see the data, set a negative-eigenvalue minGRU's weights by hand
# so that it computes parity exactly, and run the task's smoke preset.

# %%
import tempfile
from pathlib import Path

import torch

import learn
import scratch
from tasks.state.cli import main as state
from tasks.state.data import PROBLEMS, batch

for name, problem in PROBLEMS.items():
    x, y = batch(problem, seed=0, split=0, index=0, size=1, length=12)
    print(f"{name:6}: symbols {x.argmax(-1)[:, 0].tolist()}")
    print(f"        running state {y[:, 0].tolist()}")

# %% [markdown]
# ## Parity by hand: a negative transition swaps
#
# One unit, one input (the bit). x̂_z = 40 · bit − 20 makes z_t ≈ 1 for a 1 and ≈ 0 for a 0;
# x̂_h = 1 makes h̃_t = 1. With `negative=True`, a_t = 1 − 2 z_t: a 1 maps h to −h + 1, a 0
# keeps h, so from h_0 = 0 the state is the parity itself (0, 1, 0, …). The same weights in the
# plain minGRU, a_t = 1 − z_t, make a 1 map h to 1: it remembers the last 1, not the count.

# %%
bits, labels = batch(PROBLEMS["parity"], seed=0, split=1, index=0, size=64, length=256)
x = bits[:, :, 1:].double()  # (T, N, 1): the bit
for negative in (True, False):
    cell = scratch.MinGRU(1, 1, dtype=torch.float64, negative=negative)
    with torch.no_grad():
        cell.weight_ih_l0.copy_(torch.tensor([[40.0], [0.0]]))  # rows: x̂_z, then x̂_h
        cell.bias_ih_l0.copy_(torch.tensor([-20.0, 1.0]))
        h, _ = cell(x)
    guess = (h[:, :, 0] > 0.5).long()
    right = (guess == labels).double().mean(dim=1)
    print(
        f"negative={negative!s:5}: running parity right at {right.mean():.1%} of the steps;"
        f" at step 256, {right[-1]:.1%} of the sequences"
    )

# %% [markdown]
# Mod 5 needs a rotation, which no real diagonal a_t gives (the page's argument); a network
# with a full matrix inside a saturating function can learn both. Whether training finds the
# rule is what the task measures. Its smoke preset: a few steps of a tiny model, to see the
# command and what it prints; the page's table comes from `python -m tasks.state lab`.

# %%
runs = Path(tempfile.mkdtemp())
out = str(runs / "smoke")
state(["train", "--smoke", "--cell", "mingru_neg", "--no-progress", "--out", out])

# %% [markdown]
# Four steps of an 8-unit model have learnt nothing: its accuracy is near chance, 50 %, the
# yardstick the command prints. The page's runs train for 2000 steps.

# %% [markdown]
# ## Exercise: mingru_negative_step (MG1, MG3)
#
# One step of the minGRU whose transition reaches (−1, 1): a_t = 1 − 2 z_t, so that a symbol can flip the sign of h_t, which a parity needs.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check mingru_negative_step FILE.py`.
#
# *Hint*: The minGRU's a_t = 1 − z_t only reaches (0, 1); stretch it to (−1, 1). The input term
# z_t ⊙ h̃_t is the minGRU's own.


# %%
def mingru_negative_step(x_z, h_tilde, h_prev):
    """One step of the minGRU whose transition reaches (−1, 1): a_t = 1 − 2 z_t, so that a
    symbol can flip the sign of h_t, which a parity needs.

    x_z: x̂_z (N, H); h_tilde: h̃_t = x̂_h (N, H); h_prev: h_{t−1} (N, H).
    Returns z (z_t), a (a_t) and h (h_t), each (N, H).
    """
    # your code here: compute and return z, a, h
    raise NotImplementedError


learn.check(mingru_negative_step)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution mingru_negative_step` prints ours, as a file that `check` accepts.
#
# </details>
