"""Independent references for the variant cells: each written straight from its paper's
equations as autograd over a plain loop, with none of scratch's code. One function per cell:
one layer, one direction, a plain batch x (L, N, I); ``p`` maps parameter kinds ("weight_ih",
"ln_c_weight", ...) to tensors (absent biases: None); masks are in the layout
VariationalLSTM / ZoneoutLSTM take them ((N, ·) per sequence, (L, N, H) per step).
``stacked`` runs layers and directions the way torch.nn stacks them.
"""

import torch
from torch.nn.functional import layer_norm


def _affine(x, W, b):
    return x @ W.t() if b is None else x @ W.t() + b


def lnlstm(x, h, c, p, masks=None):
    """Ba, Kiros & Hinton (2016), supplement eqs (20)–(22), biases after the normalisation,
    LN as torch.nn.functional.layer_norm computes it (eps 1e-5)."""
    four_h, H = p["weight_hh"].shape[0], h.shape[1]
    ys = []
    for x_t in x:
        a = layer_norm(h @ p["weight_hh"].t(), (four_h,), p["ln_hh_weight"], p["ln_hh_bias"])
        a = a + layer_norm(x_t @ p["weight_ih"].t(), (four_h,), p["ln_ih_weight"], p["ln_ih_bias"])
        for b in (p["bias_ih"], p["bias_hh"]):
            a = a if b is None else a + b  # eq (20)
        i, f, g, o = a.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # eq (21)
        h = torch.sigmoid(o) * torch.tanh(layer_norm(c, (H,), p["ln_c_weight"], p["ln_c_bias"]))
        ys.append(h)  # eq (22)
    return torch.stack(ys), (h, c)


def peephole(x, h, c, p, masks=None):
    """Gers, Schraudolph & Schmidhuber (2002): input and forget gates peep at c_{t−1}, the
    output gate at c_t."""
    ys = []
    for x_t in x:
        a = _affine(x_t, p["weight_ih"], p["bias_ih"]) + _affine(h, p["weight_hh"], p["bias_hh"])
        a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
        i = torch.sigmoid(a_i + p["weight_ci"] * c)
        f = torch.sigmoid(a_f + p["weight_cf"] * c)
        c = f * c + i * torch.tanh(a_g)
        h = torch.sigmoid(a_o + p["weight_co"] * c) * torch.tanh(c)
        ys.append(h)
    return torch.stack(ys), (h, c)


def chogru(x, h, p, masks=None):
    """Cho et al. (2014), eqs (5)–(8): the reset gate multiplies h_{t−1} before U."""
    H = h.shape[1]
    W_r, W_z, W_n = p["weight_ih"].split(H)
    U_r, U_z, U_n = p["weight_hh"].split(H)
    b = [None] * 3 if p["bias_ih"] is None else (p["bias_ih"] + p["bias_hh"]).split(H)
    ys = []
    for x_t in x:
        r = torch.sigmoid(_affine(x_t, W_r, b[0]) + h @ U_r.t())  # eq (5)
        z = torch.sigmoid(_affine(x_t, W_z, b[1]) + h @ U_z.t())  # eq (6)
        h_tilde = torch.tanh(_affine(x_t, W_n, b[2]) + (r * h) @ U_n.t())  # eq (8)
        h = z * h + (1 - z) * h_tilde  # eq (7)
        ys.append(h)
    return torch.stack(ys), (h,)


def _lstm_gates(x_t, h, p):
    a = _affine(x_t, p["weight_ih"], p["bias_ih"]) + _affine(h, p["weight_hh"], p["bias_hh"])
    a_i, a_f, a_g, a_o = a.chunk(4, dim=1)
    return torch.sigmoid(a_i), torch.sigmoid(a_f), torch.tanh(a_g), torch.sigmoid(a_o)


def variational(x, h, c, p, masks):
    """Gal & Ghahramani (2016): the same masks z_x on x_t and z_h on h_{t−1} at every step."""
    ys = []
    for x_t in x:
        i, f, g, o = _lstm_gates(x_t * masks["x"], h * masks["h"], p)
        c = f * c + i * g
        h = o * torch.tanh(c)
        ys.append(h)
    return torch.stack(ys), (h, c)


def zoneout(x, h, c, p, masks):
    """Krueger et al. (2017): c_t = d^c ⊙ c_{t−1} + (1 − d^c) ⊙ c̃_t and
    h_t = d^h ⊙ h_{t−1} + (1 − d^h) ⊙ o_t ⊙ tanh(c̃_t)."""
    ys = []
    for x_t, d_h, d_c in zip(x, masks["h"], masks["c"], strict=True):
        i, f, g, o = _lstm_gates(x_t, h, p)
        c_tilde = f * c + i * g
        h = d_h * h + (1 - d_h) * o * torch.tanh(c_tilde)
        c = d_c * c + (1 - d_c) * c_tilde
        ys.append(h)
    return torch.stack(ys), (h, c)


def indrnn(x, h, p, masks=None):
    """Li et al. (2018), eq. (2): h_t = σ(W x_t + u ⊙ h_{t−1} + b), σ = relu; each unit n reads
    only its own h_{t−1,n}, through the scalar u_n."""
    b = 0 if p["bias_ih"] is None else p["bias_ih"] + p["bias_hh"]
    ys = []
    for x_t in x:
        pre = [x_t @ p["weight_ih"][n] + p["weight_hh"][n] * h[:, n] for n in range(h.shape[1])]
        h = torch.relu(torch.stack(pre, dim=1) + b)
        ys.append(h)
    return torch.stack(ys), (h,)


REFERENCES = {
    "LayerNormLSTM": lnlstm,
    "PeepholeLSTM": peephole,
    "ChoGRU": chogru,
    "VariationalLSTM": variational,
    "ZoneoutLSTM": zoneout,
    "IndRNN": indrnn,
}


def stacked(reference, params, x, state0, num_layers, bidirectional, masks=None):
    """torch.nn's stacking around a one-layer reference: each direction reads the layer's
    input (the reverse one with time flipped), outputs are concatenated, forward first.
    params: the module's parameters by name; state0: (h_0,) or (h_0, c_0), (layers·D, N, ·);
    masks: (layer, direction) -> masks, or None. Returns output (L, N, D·H) and the final states."""
    D = 2 if bidirectional else 1
    finals = []
    for layer in range(num_layers):
        outputs = []
        for direction in range(D):
            suffix = f"_l{layer}" + ("_reverse" if direction else "")
            p = {k[: -len(suffix)]: v for k, v in params.items() if k.endswith(suffix)}
            p.setdefault("bias_ih", None)
            p.setdefault("bias_hh", None)
            m = None if masks is None else masks[(layer, direction)]
            if direction and m is not None:  # the per-step masks belong to time t
                m = {k: v.flip(0) if v.dim() == 3 else v for k, v in m.items()}
            x_dir = x.flip(0) if direction else x
            k = layer * D + direction
            y, state = reference(x_dir, *(s[k] for s in state0), p, masks=m)
            outputs.append(y.flip(0) if direction else y)
            finals.append(state)
        x = torch.cat(outputs, dim=2)
    return x, tuple(torch.stack(parts) for parts in zip(*finals, strict=True))
