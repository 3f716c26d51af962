"""MinGRU and MinLSTM: the minimal RNNs of Feng et al. 2024, as torch.nn-shaped layers.

Their gates read x_t only, so a layer's recurrence is h_t = a_t ⊙ h_{t−1} + b_t, which
bptt="manual" runs as a parallel scan (scan.py). Everything else (parameters, stacking, both
directions, dropout between layers, packed and unbatched input, h_0) is RNNBase's, as for the
other layers. torch.nn has no such layers, so `reference` has no twin: the tests check them
against an autograd implementation written from the paper's equations. docs/minimal.md.
"""

from scratch.modules import CellStack


class MinimalRNN(CellStack):
    """A stack of one minimal cell (``KEY``, a registry key); torch.nn.GRU's arguments, less
    what has no meaning without a recurrent weight. hx is h_0, (layers · directions, N, H)."""


class MinGRU(MinimalRNN):
    """minGRU: h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t, z_t = σ(x_t W_zᵀ + b_z), h̃_t = x_t W_hᵀ + b_h.

    Parameters per layer and direction: weight_ih_l{k} (2H, H_in) and bias_ih_l{k} (2H,), the
    rows [z; h̃]. docs/minimal.md#mingru.
    """

    KEY = "mingru"


class MinLSTM(MinimalRNN):
    """minLSTM: h_t = f′_t ⊙ h_{t−1} + i′_t ⊙ h̃_t, with f′, i′ = f, i / (f + i), the gates
    f_t, i_t = σ(x_t W_{f,i}ᵀ + b_{f,i}) and h̃_t = x_t W_hᵀ + b_h. No cell state: hx is h_0.

    Parameters per layer and direction: weight_ih_l{k} (3H, H_in) and bias_ih_l{k} (3H,), the
    rows [i; f; h̃]. docs/minimal.md#minlstm.
    """

    KEY = "minlstm"
