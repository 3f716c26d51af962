# %% [markdown]
# # Text: a character-level language model, and sampling with a temperature
#
# The lesson to run beside *Text* (`docs/text.md`, [on the site](../../text/)), which
# describes the model, the corpus and a full run. Here you train the `smoke` preset on our
# LSTM (seconds, not a useful model) and then see what the temperature does to the
# distribution every character is drawn from.

# %%
import tempfile
from pathlib import Path

import torch

import learn
from tasks.text.cli import main as text

runs = Path(tempfile.mkdtemp())
text(["train", "--smoke", "--impl", "scratch", "--no-progress", "--out", str(runs / "smoke")])

# %% [markdown]
# Four steps of a 16-unit LSTM have learnt almost nothing; a sample shows it. The `tiny`
# preset (`--preset tiny`, about a minute) and the page's default run write real words.

# %%
checkpoint = str(runs / "smoke" / "checkpoint.pt")
text(["sample", "--checkpoint", checkpoint, "--prime", "ROMEO:", "--length", "80", "--seed", "1"])

# %% [markdown]
# ## The temperature
#
# Each character is drawn from softmax(logits / T). Below 1 the likeliest characters become
# likelier still; above 1 the distribution flattens. Here, for five made-up scores:

# %%
logits = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0], dtype=torch.float64)
for T in (0.25, 0.5, 1.0, 2.0, 4.0):
    p = torch.softmax(logits / T, dim=0)
    entropy = -(p * p.log()).sum().item()
    print(f"T = {T:4}: p = {[round(v, 3) for v in p.tolist()]}  entropy {entropy:.2f} nats")

# %% [markdown]
# The labels of the exercise: (S1) p = softmax(logits / T) over the vocabulary; (S2) the drawn
# id is the first k whose running sum p_0 + … + p_k exceeds a uniform number u. `torch.multinomial`
# does the same with a random u of its own; a given u makes the draw reproducible and checkable.

# %% [markdown]
# ## Exercise: sample_next (S1, S2)
#
# Draw one token per row from softmax(logits / temperature), by inverting the cumulative distribution with a uniform number u: the same u always gives the same token.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check sample_next FILE.py`.
#
# *Hint*: Divide, do not multiply, by the temperature. torch.cumsum then torch.searchsorted
# (right=True) finds the first running sum above u.


# %%
def sample_next(logits, temperature, u):
    """Draw one token per row from softmax(logits / temperature), by inverting the cumulative
    distribution with a uniform number u: the same u always gives the same token.

    logits: (N, V); temperature: a float > 0; u: (N,) uniform numbers in [0, 1).
    Returns probs (N, V) and ids (N,), the first id whose cumulative probability exceeds u.
    """
    # your code here: compute and return probs, ids
    raise NotImplementedError


learn.check(sample_next)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution sample_next` prints ours, as a file that `check` accepts.
#
# </details>
