# %% [markdown]
# # sLSTM: exponential gates, a normaliser, and a stabiliser
#
# The lesson to run beside *sLSTM* (`docs/slstm.md`, [on the site](../../slstm/)), which gives
# the cell's equations (S1)–(S11), why h_t does not depend on the stabiliser m_t, and the
# backward step derived by hand. Here you run the layer, watch exp() overflow without the
# stabiliser and not with it, and hold our backward against autograd's.

# %%
import torch
from torch.nn.functional import logsigmoid

import learn
import scratch

torch.manual_seed(0)
L, N, I, H = 6, 3, 4, 8
x = torch.randn(L, N, I, dtype=torch.float64)
layer = scratch.SLSTM(I, H, dtype=torch.float64)
out, state = layer(x)
print("its parameters:", [(name, tuple(p.shape)) for name, p in layer.named_parameters()])
print("out:", tuple(out.shape), " its state (h, c, n, m):", [tuple(s.shape) for s in state])

# %% [markdown]
# ## Why the stabiliser
#
# The input gate is i_t = exp(ĩ_t): in float32, exp() overflows past ĩ ≈ 88. Below, one unit
# runs (S6)–(S11) twice on the same gates, with m_t as the page defines it and with m_t ≡ 0
# (no stabiliser). The page shows that c_t and n_t are both multiplied by exp(−m_t), so
# h_t = o_t c_t / n_t is the same, as long as nothing overflows.


# %%
def run(i_raw, f_raw, z, o, stabilise: bool):
    """One unit's h_t for t = 1 … T, from its gates' pre-activations, by (S6)–(S11)."""
    c = n = m = torch.zeros(())
    hs = []
    for log_i, log_f, z_t, o_t in zip(i_raw, logsigmoid(f_raw), z, o, strict=True):
        m_new = torch.maximum(log_f + m, log_i) if stabilise else torch.zeros(())  # (S6)
        i, f = torch.exp(log_i - m_new), torch.exp(log_f + m - m_new)  # (S7), (S8)
        c, n, m = f * c + i * z_t, f * n + i, m_new  # (S9), (S10)
        hs.append(o_t * c / n)  # (S11)
    return torch.stack(hs)


g = torch.Generator().manual_seed(0)
T = 12
i_raw = torch.linspace(10, 120, T)  # the input gate's pre-activation grows past 88
f_raw, z, o = (
    torch.randn(T, generator=g),
    torch.randn(T, generator=g).tanh(),
    torch.rand(T, generator=g),
)
with_m, without_m = run(i_raw, f_raw, z, o, True), run(i_raw, f_raw, z, o, False)
for t in range(0, T, 2):
    print(
        f"t = {t:2}, ĩ_t = {i_raw[t].item():5.1f}: h_t {with_m[t].item(): .6f} with m_t, {without_m[t].item(): .6f} without"
    )

# %% [markdown]
# While exp(ĩ_t) fits in float32 the two agree to rounding; once it overflows, c_t / n_t is
# inf / inf and h_t is nan. With m_t, every exp() has an argument ≤ 0.

# %% [markdown]
# ## Its hand-written backward, against autograd
#
# `bptt="autograd"` differentiates the forward lines; `"manual"` runs the page's backward step,
# with the stabiliser's own path (S6) through m_t.

# %%
grads = {}
for bptt in ("manual", "autograd"):
    other = scratch.SLSTM(I, H, dtype=torch.float64, bptt=bptt)
    other.load_state_dict(layer.state_dict())
    x_in = x.clone().requires_grad_()
    (other(x_in)[0] ** 2).sum().backward()
    grads[bptt] = [x_in.grad, *(p.grad for p in other.parameters())]
worst = max((a - b).abs().max().item() for a, b in zip(*grads.values(), strict=True))
print(f"largest difference between our backward and autograd's: {worst:.1e}")

# %% [markdown]
# ## Exercise: slstm_stabilised_gates (S6, S7, S8)
#
# The sLSTM's stabiliser and its stabilised gates: exp() of the gates, each divided by exp(m_t), so that nothing overflows and h_t is unchanged.
# Fill in the blank, run the cell and read what the checker says; from a terminal,
# `python -m learn check slstm_stabilised_gates FILE.py`.
#
# *Hint*: m_t is the larger of the two log-gates (the forget one carries m_{t−1}); subtract it
# inside each exp(), so one of i′_t, f′_t is exactly 1.


# %%
def slstm_stabilised_gates(log_i, log_f, m_prev):
    """The sLSTM's stabiliser and its stabilised gates: exp() of the gates, each divided by
    exp(m_t), so that nothing overflows and h_t is unchanged.

    log_i: log i_t = ĩ_t (N, H); log_f: log f_t (N, H); m_prev: m_{t−1} (N, H).
    Returns m (m_t), i (i′_t) and f (f′_t), each (N, H).
    """
    # your code here: compute and return m, i, f
    raise NotImplementedError


learn.check(slstm_stabilised_gates)

# %% [markdown]
# <details><summary>Solution (try first)</summary>
#
# `python -m learn solution slstm_stabilised_gates` prints ours, as a file that `check` accepts.
#
# </details>
