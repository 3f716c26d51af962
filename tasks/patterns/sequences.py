"""Sequences of different lengths in one batch: padding, packing, masks, each one's final state;
and the recurrent layer that reads them.

A batch of N sequences is padded to the longest, L, and its lengths kept beside it::

    ids (N, L)   t = 0 1 2 3 4 5        lengths   mask (N, L): True where t < length
    sequence 0     s o   f o u l  ->   6         T T T T T T
    sequence 1     f a i r · ·    ->   4         T T T T F F      · = padding
    sequence 2     s o · · · ·    ->   2         T T F F F F

``pack_padded_sequence`` gives the recurrent layer only the real steps (at step t, the rows
still running), so no state ever reads padding, and ``h_n`` holds each sequence's state after
its *own* last step. The mask keeps padding out of everything else: of attention (a padded
position gets weight exactly 0) and of every loss (a padded target adds nothing).
"""

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from tasks.impl import layer_class

State = Tensor | tuple[Tensor, Tensor]  # h, or (h, c) for the LSTM


def recurrent_layer(cfg: Any, bidirectional: bool, num_layers: int = 1) -> nn.Module:
    """The layer ``cfg.cell`` names, from ``cfg.impl``, over batch-first embeddings of
    ``cfg.embed_size``, ``cfg.hidden_size`` units a direction."""
    layer = layer_class(cfg.impl, cfg.cell)
    return layer(
        cfg.embed_size,
        cfg.hidden_size,
        num_layers=num_layers,
        batch_first=True,
        bidirectional=bidirectional,
    )


def pad(sequences: list[Tensor], value: int = 0) -> tuple[Tensor, Tensor]:
    """(ids (N, L) padded with ``value``, lengths (N,)) of 1-D id tensors."""
    lengths = torch.tensor([len(s) for s in sequences])
    ids = torch.full((len(sequences), int(lengths.max())), value, dtype=torch.long)
    for row, s in enumerate(sequences):
        ids[row, : len(s)] = s
    return ids, lengths


def pack(x: Tensor, lengths: Tensor) -> PackedSequence:
    """Batch-first features (N, L, E) of sequences of ``lengths``, in any order, packed."""
    return pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)


def length_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(N, max_len): True at the real positions t < length of each row."""
    return torch.arange(max_len)[None, :] < lengths[:, None]


def final_state(h_n: State, bidirectional: bool) -> Tensor:
    """Each sequence's own last state from a layer's ``h_n``, the top layer's: (N, H), or for a
    bidirectional layer (N, 2H), the forward direction's state after the sequence's last step
    beside the reverse direction's after its first (see docs/patterns.md#reading-h_n)::

        h_n (num_layers · directions, N, H): layer 0 forward, layer 0 reverse, ..., top forward,
        top reverse; so h_n[-2] is the top layer's forward direction, h_n[-1] its reverse.
    """
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # an LSTM's (h_n, c_n): its h_n
    if not bidirectional:
        return h_n[-1]  # (N, H)
    return torch.cat([h_n[-2], h_n[-1]], dim=1)  # (N, 2H)


def masked_cross_entropy(
    logits: Tensor, targets: Tensor, mask: Tensor, reduction: str = "mean"
) -> Tensor:
    """Cross-entropy over the positions where ``mask`` is True, their mean (or with
    ``reduction="sum"`` their sum): logits (..., C), targets and mask (...); a masked-out
    target, whatever its value, is not even read."""
    return F.cross_entropy(logits[mask], targets[mask], reduction=reduction)  # (M, C), (M,)
