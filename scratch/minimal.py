"""MinGRU and MinLSTM, the minimal RNNs of Feng et al. 2024, and RGLRU, Griffin's gated linear
recurrence (De et al. 2024), as torch.nn-shaped layers.

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
    """minGRU: h_t = (1 − z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t, z_t = σ(x_t W_zᵀ + b_z), h̃_t = x_t W_hᵀ + b_h;
    with negative=True, h_t = (1 − 2 z_t) ⊙ h_{t−1} + z_t ⊙ h̃_t.

    Parameters per layer and direction: weight_ih_l{k} (2H, H_in) and bias_ih_l{k} (2H,), the
    rows [z; h̃]. docs/minimal.md#mingru.
    """

    KEY = "mingru"
    OWN = {"negative": False}

    def _check_own(self, a: dict) -> str:
        """negative=True: a_t = 1 − 2 z_t in (−1, 1), Grazzi et al. 2024 (docs/state.md)."""
        self.negative = bool(a["negative"])
        return "mingru_neg" if self.negative else "mingru"

    def extra_repr(self) -> str:
        return super().extra_repr() + (", negative=True" if self.negative else "")


class MinLSTM(MinimalRNN):
    """minLSTM: h_t = f′_t ⊙ h_{t−1} + i′_t ⊙ h̃_t, with f′, i′ = f, i / (f + i), the gates
    f_t, i_t = σ(x_t W_{f,i}ᵀ + b_{f,i}) and h̃_t = x_t W_hᵀ + b_h. No cell state: hx is h_0.

    Parameters per layer and direction: weight_ih_l{k} (3H, H_in) and bias_ih_l{k} (3H,), the
    rows [i; f; h̃]. docs/minimal.md#minlstm.
    """

    KEY = "minlstm"


class RGLRU(MinimalRNN):
    """RG-LRU (De et al. 2024, §2.4): h_t = a_t ⊙ h_{t−1} + √(1 − a_t²) ⊙ (i_t ⊙ u_t), with
    a_t = σ(Λ)^{8 r_t}, r_t = σ(x_t W_rᵀ + b_r), i_t = σ(x_t W_iᵀ + b_i), u_t = x_t W_uᵀ + b_u.

    u_t is the input projection that Griffin puts before its RG-LRU: with it the layer takes
    any input_size (and a stacked or bidirectional layer's 2H), and with input_size = H,
    W_u = I and b_u = 0 it is the paper's RG-LRU on x_t. Parameters per layer and direction:
    weight_ih_l{k} (3H, H_in) and bias_ih_l{k} (3H,), the rows [r; i; u], and lambda_l{k} (H,),
    drawn so that σ(Λ) lies in [0.9, 0.999]. docs/rglru.md.
    """

    KEY = "rglru"
