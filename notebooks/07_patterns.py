# %% [markdown]
# # Sequence patterns: a decoder with teacher forcing and attention
#
# The lesson to run beside *Sequence patterns* (`docs/patterns.md`, [on the
# site](../../patterns/)), which describes the four patterns and their demos. Here you run the
# decoder the captioner and the date translator share (`tasks/patterns/decoder.py`) on our GRU:
# one pass with teacher forcing, a look at its attention weights, then the `seq2seq` demo's
# smoke run.
#
# The labels of the exercises: one decoder step reads the token before, (D1) the true one
# where the teacher coin says so and its own guess elsewhere, (D2) embeds it, (D3) steps the
# cell and (D4) scores the next token; attention (A1) scores every memory position, (A2) turns
# the scores into weights over the real positions and (A3) reads the weighted memory.

# %%
import tempfile
from pathlib import Path

import torch

import learn
from tasks.patterns.cli import main as patterns
from tasks.patterns.decoder import Decoder

torch.manual_seed(0)
N, S, V, M = 3, 5, 7, 6  # rows, memory positions, vocabulary, memory width
decoder = Decoder("scratch", "gru", V, embed_size=4, hidden_size=8, memory_size=M, attention_size=5)
memory = torch.randn(N, S, M)
mask = torch.arange(S)[None] < torch.tensor([[5], [3], [2]])  # rows of 5, 3 and 2 positions
targets = torch.randint(1, V, (N, 4))
teacher = torch.rand(N, 4) < 0.5  # one coin per row and step
logits, alpha = decoder(torch.zeros(N, 8), 0, 4, targets, teacher, memory, mask)
print("logits", tuple(logits.shape), "attention weights", tuple(alpha.shape))
print("weights of row 2 at step 0:", [round(a, 3) for a in alpha[2, 0].tolist()])
print("each row's weights sum to", alpha.sum(-1).unique().tolist())

# %% [markdown]
# Row 2 has two real positions: the padding gets weight exactly 0. Gradients flow through
# every step, teacher-forced or not, into our GRU's hand-written BPTT:

# %%
loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
loss.backward()
print(
    f"loss {loss.item():.3f}; gradient norm of the cell's W_hh {decoder.cell.weight_hh.grad.norm():.3f}"
)

# %% [markdown]
# ## The date translator's smoke run
#
# Dates in many formats into ISO form, with attention: the smoke preset trains for seconds,
# so its translations are still wrong; the page's run gets them right.

# %%
runs = Path(tempfile.mkdtemp())
patterns(
    [
        "seq2seq",
        "train",
        "--smoke",
        "--impl",
        "scratch",
        "--no-progress",
        "--out",
        str(runs / "dates"),
    ]
)

# %% [markdown]
# ## Exercise: decoder_step (D1, D2, D3, D4)
#
# One decoder step: choose the token to read (the true one where the teacher coin says so, the decoder's own guess elsewhere), embed it, step a tanh Elman cell, score the next token.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check decoder_step FILE.py`.
#
# *Hint*: torch.where picks per row. The logits score the *next* token, so they read the state
# this step has just computed.


# %%
def decoder_step(y_true, y_guess, teacher, h_prev, embedding, W_ih, W_hh, b, W_out, b_out):
    """One decoder step: choose the token to read (the true one where the teacher coin says so,
    the decoder's own guess elsewhere), embed it, step a tanh Elman cell, score the next token.

    y_true, y_guess: the true previous token and the decoder's guess for it (N,) (ints);
    teacher: (N,) bools; h_prev: s_{t−1} (N, H); embedding: (V, E); W_ih: (H, E); W_hh: (H, H);
    b: (H,); W_out: (V, H); b_out: (V,).
    Returns y_prev (N,), x (N, E), h (N, H) and logits (N, V).
    """
    # your code here: compute and return y_prev, x, h, logits
    raise NotImplementedError


learn.check(decoder_step)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution decoder_step` prints ours, as a file that `check` accepts.
#
# </details>

# %% [markdown]
# ## Exercise: attention (A1, A2, A3)
#
# Additive (Bahdanau) attention for one decoder step: score every memory position, turn the scores into weights over the real (unpadded) positions, read the weighted memory.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check attention FILE.py`.
#
# *Hint*: Rows times transposed weights, as torch.nn.Linear: query @ W_s.T. Mask with -inf before
# the softmax, so padding gets weight exactly 0 and the real positions still sum to 1.


# %%
def attention(query, keys, memory, mask, W_s, v):
    """Additive (Bahdanau) attention for one decoder step: score every memory position, turn the
    scores into weights over the real (unpadded) positions, read the weighted memory.

    query: s_{t−1} (N, H); keys: W_h m_j for every position (N, S, A); memory: m (N, S, M);
    mask: (N, S), True at real positions, False at padding; W_s: (A, H); v: (A,).
    Returns e (N, S), the scores of every position, padding included; alpha (N, S); context (N, M).
    """
    # your code here: compute and return e, alpha, context
    raise NotImplementedError


learn.check(attention)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution attention` prints ours, as a file that `check` accepts.
#
# </details>
