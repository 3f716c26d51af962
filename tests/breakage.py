"""Deliberately broken copies of scratch's backward, for tests that must see them caught."""

import torch


def flip_output_gate(backward):
    """A broken copy of an LSTM backward (a step's or a layer's): the sign of d_a_o flipped.

    A step returns (d_a, d_h_prev, d_c_prev); a layer returns (d_x̂ blocks, d_ĥ blocks,
    d_state0, d_W_hr), where the LSTM's single d_x̂ block is also its d_ĥ block.
    """

    def flip(d_a):
        H = d_a.shape[1] // 4
        return torch.cat([d_a[:, : 3 * H], -d_a[:, 3 * H :]], dim=1)

    def broken(*args):
        first, *rest = backward(*args)
        if isinstance(first, torch.Tensor):  # a step
            return flip(first), *rest
        d_a = flip(first[0])
        return (d_a,), (d_a,), *rest[1:]

    return broken
