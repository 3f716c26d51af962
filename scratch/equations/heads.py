"""Recurrent weights that are block-diagonal over heads (the sLSTM's R, Beck et al. 2024, §2.2).

W_hh is stored as its diagonal blocks only, (G·H, H/heads): row j of gate g holds the weights of
unit j from the units of j's own head. One head is a full (G·H, H) matrix, torch.nn's shape.
"""

import torch
from torch import Tensor


def count(W_hh: Tensor, gates: int) -> int:
    """The number of heads of W_hh (G·H, H/heads)."""
    return W_hh.shape[0] // gates // W_hh.shape[1]


def block_diagonal(W_hh: Tensor, gates: int) -> Tensor:
    """R as a full (G·H, H) matrix: each gate's (H, H) block is block-diagonal over heads."""
    K = count(W_hh, gates)
    if K == 1:
        return W_hh
    d = W_hh.shape[1]
    per_gate = W_hh.view(gates, K, d, d)  # [gate, head, unit out, unit in]
    return torch.cat([torch.block_diag(*per_gate[g]) for g in range(gates)])


def diagonal_blocks(full: Tensor, K: int, gates: int) -> Tensor:
    """The part of a full (G·H, H) matrix (a gradient) that lies in R's blocks: (G·H, H/K)."""
    if K == 1:
        return full
    d = full.shape[1] // K
    blocks = full.view(gates, K, d, K, d).diagonal(dim1=1, dim2=3)  # (G, d, d, K)
    return blocks.permute(0, 3, 1, 2).reshape(gates * K * d, d)
