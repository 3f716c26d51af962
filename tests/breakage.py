"""Deliberately broken copies of scratch's LSTM, for tests that must see them caught."""

from dataclasses import replace

import torch

from scratch import registry


def _flip(d_a):
    """The sign of the output gate's block of d_a flipped; in the declared order i, f, g, o
    that is the last block, in the fast loop's o, i, f, g the first."""
    H = d_a.shape[1] // 4
    return torch.cat([d_a[:, : 3 * H], -d_a[:, 3 * H :]], dim=1)


def _flip_fused(d_a):
    H = d_a.shape[1] // 4
    return torch.cat([-d_a[:, :H], d_a[:, H:]], dim=1)


def broken_lstm(monkeypatch, step: bool = True, manual_loop: bool = True) -> None:
    """Replace the LSTM's declaration by one whose step backward, manual loop's backward, or both have
    the sign of d_a_o flipped (on d_x̂ only: W_hh's gradient stays right)."""
    cell = registry.CELLS["lstm"]
    changes = {}
    if step:

        def step_backward(*args):
            back = cell.step_backward(*args)
            return back._replace(d_x_proj=_flip(back.d_x_proj))

        changes["step_backward"] = step_backward
    if manual_loop:

        def backward(*args):
            (d_A,), *rest = cell.manual_loop.backward(*args)
            return ((_flip_fused(d_A),), *rest)

        changes["manual_loop"] = replace(cell.manual_loop, backward=backward)
    monkeypatch.setitem(registry.CELLS, "lstm", replace(cell, **changes))
