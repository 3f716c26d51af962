# %% [markdown]
# # Gradient flow: how much gradient reaches each step back
#
# The lesson to run beside *Gradient flow* (`docs/gradients.md`, [on the
# site](../../gradients/)), which measures vanishing and exploding gradients on the adding
# problem. Here you record dL/dh_t at every step of our own BPTT with
# `scratch.record_state_grads`, for an Elman RNN and an LSTM on the same input, with a loss on
# the last step only: how much of it reaches step t?

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch

import learn
import scratch
from tasks.gradients.cli import main as gradients

torch.manual_seed(0)
L, N, I, H = 60, 8, 4, 32
x = torch.randn(L, N, I)
curves = {}
for name in ("RNN", "LSTM"):
    layer = getattr(scratch, name)(I, H)
    out, _ = layer(x)
    with scratch.record_state_grads(layer) as rec:
        out[-1].pow(2).sum().backward()  # a loss on the last step only
    curves[name] = rec[(0, 0)]["h"].norm(dim=(1, 2))  # ‖dL/dh_t‖ for t = 0 … L−1
    print(
        f"{name:5} ‖dL/dh_t‖ at the last step {curves[name][-1]:.2e}, at the first {curves[name][0]:.2e}"
    )

plt.figure(figsize=(6, 3))
for name, curve in curves.items():
    plt.semilogy(curve, label=name)
plt.xlabel("step t")
plt.ylabel("‖dL/dh_t‖")
plt.legend()
plt.tight_layout()

# %% [markdown]
# Both are at initialisation, untrained. Read the slope: a straight line on this log scale is
# a constant factor per step.
#
# ## The adding problem, at smoke size
#
# The page's task: read two marked numbers far apart in a long sequence and output their sum.
# `python -m tasks.gradients train --smoke` trains four steps (seconds); its yardstick is
# predicting the mean. `python -m tasks.gradients lab` runs the page's whole measurement.

# %%
runs = Path(tempfile.mkdtemp())
gradients(["train", "--smoke", "--no-progress", "--out", str(runs / "adding")])

# %% [markdown]
# The training loop (`tasks/loop.py`) clips the gradients by their global norm before every
# step, with `torch.nn.utils.clip_grads_with_norm_`. In the exercise you write that clipping.
# Its labels: (GN1) the global norm ‖g‖, one number over every tensor of the model, and (GN2)
# the rescaling g ← g · min(1, max_norm / ‖g‖).

# %% [markdown]
# ## Exercise: clip_grad_norm (GN1, GN2)
#
# Rescale a model's gradients together so that their global L2 norm is at most max_norm; their direction is kept. (torch.nn.utils.clip_grad_norm_ does this in place, with 1e-6 added to the norm against a division by zero.)
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check clip_grad_norm FILE.py`.
#
# *Hint*: One norm over all tensors together, not one per tensor; and never scale up.


# %%
def clip_grad_norm(grads, max_norm):
    """Rescale a model's gradients together so that their global L2 norm is at most max_norm;
    their direction is kept. (torch.nn.utils.clip_grad_norm_ does this in place, with 1e-6
    added to the norm against a division by zero.)

    grads: a list of tensors of any shapes; max_norm: a float > 0.
    Returns norm, the global norm before clipping (0-d), and the list of clipped tensors.
    """
    # your code here: compute and return norm, grads
    raise NotImplementedError


learn.check(clip_grad_norm)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution clip_grad_norm` prints ours, as a file that `check` accepts.
#
# </details>
