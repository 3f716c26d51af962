"""A decoder that writes a sequence one token at a time from a recurrent cell, with teacher
forcing in training, greedy decoding at evaluation, and, given a memory to read, additive
(Bahdanau) attention over it. The captioner (one vector in) and the date translator (a
sequence in) both write with it.

One output step t, with s_{t−1} the decoder's state and y_{t−1} the token before (<sos> at t = 0):

    e_{t,j} = vᵀ tanh(W_s s_{t−1} + W_h m_j)     score of memory position j       (attention only)
    α_t     = softmax_j(e_{t,j}), padding j out  how much step t reads from j
    c_t     = Σ_j α_{t,j} m_j                    the context it reads
    s_t     = cell([embed(y_{t−1}); c_t], s_{t−1})
    logits  = W_o [s_t; c_t] + b_o               scores of the next token

Teacher forcing: in training, the y_{t−1} fed at step t is the true previous token where that
step's coin says so (probability ``--teacher-forcing``) and the decoder's own best guess
otherwise. The coins are drawn per sequence *and* step (tasks/patterns/batches.py ``coins``),
not once per sequence: a sequence then mixes true and own tokens, so the decoder learns, at
every position, to carry on from a history that holds its own mistakes, while most of its
inputs stay right. Drawn once per sequence, a batch splits into sequences wholly teacher-forced
(which never see a mistake) and sequences wholly free-running (whose later steps, after an
early mistake, are scored against targets that no longer follow from what was read).
"""

import torch
from torch import Tensor, nn

from tasks.impl import cell_class, choice
from tasks.patterns.sequences import State


class Attention(nn.Module):
    """Additive attention (Bahdanau et al., 2015): which memory positions step t reads."""

    def __init__(self, query_size: int, memory_size: int, attention_size: int):
        super().__init__()
        self.W_s = nn.Linear(query_size, attention_size, bias=False)
        self.W_h = nn.Linear(memory_size, attention_size)
        self.v = nn.Linear(attention_size, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor, memory: Tensor, mask: Tensor):
        """query s_{t−1} (N, H); keys W_h m_j (N, S, A), computed once per sequence; memory m
        (N, S, M); mask (N, S), False at padding. Returns c_t (N, M) and α_t (N, S)."""
        e = self.v(torch.tanh(keys + self.W_s(query)[:, None])).squeeze(-1)  # (N, S)
        alpha = torch.softmax(e.masked_fill(~mask, float("-inf")), dim=1)  # 0 at padding
        return torch.bmm(alpha[:, None], memory).squeeze(1), alpha  # (N, M), (N, S)


class Decoder(nn.Module):
    """Writes ``steps`` tokens from an initial state; reads ``memory`` with attention when
    built with a ``memory_size`` (> 0). ``impl``, ``cell``: which one-step cell it steps."""

    def __init__(
        self,
        impl: str,
        cell: str,
        vocab_size: int,
        embed_size: int,
        hidden_size: int,
        memory_size: int = 0,
        attention_size: int = 0,
    ):
        super().__init__()
        self.states = choice(cell).states
        self.embed = nn.Embedding(vocab_size, embed_size)
        self.attention = (
            Attention(hidden_size, memory_size, attention_size) if memory_size else None
        )
        self.cell = cell_class(impl, cell)(embed_size + memory_size, hidden_size)
        self.out = nn.Linear(hidden_size + memory_size, vocab_size)

    def initial_state(self, h_0: Tensor) -> State:
        """The cell's state from h_0 (N, H): h_0 itself, or (h_0, 0) for an LSTM's (h, c)."""
        return h_0 if self.states == 1 else (h_0, torch.zeros_like(h_0))

    def forward(
        self,
        h_0: Tensor,
        sos: int,
        steps: int,
        targets: Tensor | None = None,
        teacher: Tensor | None = None,
        memory: Tensor | None = None,
        mask: Tensor | None = None,
    ) -> tuple[Tensor, Tensor | None]:
        """Logits of ``steps`` tokens (N, steps, V), and the attention weights (N, steps, S)
        (None without attention). After step t, the next step reads the true token
        ``targets[:, t]`` where the coin ``teacher[:, t]`` is True and the decoder's own guess
        elsewhere (both (N, steps)); without ``teacher``, only its own guesses (greedy)."""
        state = self.initial_state(h_0)
        y_prev = torch.full((len(h_0),), sos, dtype=torch.long, device=h_0.device)
        keys = self.attention.W_h(memory) if self.attention else None  # (N, S, A)
        logits, weights = [], []
        for t in range(steps):
            x = self.embed(y_prev)  # (N, E)
            h_prev = state[0] if self.states == 2 else state
            if self.attention:
                context, alpha = self.attention(h_prev, keys, memory, mask)  # (N, M), (N, S)
                x = torch.cat([x, context], dim=1)  # (N, E + M)
                weights.append(alpha)
            state = self.cell(x, state)
            h = state[0] if self.states == 2 else state  # (N, H)
            logits.append(self.out(torch.cat([h, context], dim=1) if self.attention else h))
            guess = logits[-1].argmax(dim=1)  # (N,): no gradient flows through a choice
            if teacher is None:
                y_prev = guess
            else:
                y_prev = torch.where(teacher[:, t], targets[:, t], guess)
        return torch.stack(logits, dim=1), torch.stack(weights, dim=1) if weights else None
