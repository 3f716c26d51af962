"""The sLSTM chapter: the stabiliser m_t and the stabilised gates i′_t, f′_t (S6, S7, S8)."""

import torch
from torch.nn.functional import logsigmoid

from learn.exercise import Exercise, Probe, Quantity, rand, size


def slstm_stabilised_gates(log_i, log_f, m_prev):
    """The sLSTM's stabiliser and its stabilised gates: exp() of the gates, each divided by
    exp(m_t), so that nothing overflows and h_t is unchanged.

    log_i: log i_t = ĩ_t (N, H); log_f: log f_t (N, H); m_prev: m_{t−1} (N, H).
    Returns m (m_t), i (i′_t) and f (f′_t), each (N, H).
    """
    m = torch.maximum(log_f + m_prev, log_i)  # (S6) m_t = max(log f_t + m_{t−1}, log i_t)
    i = torch.exp(log_i - m)  # (S7) i′_t = exp(log i_t − m_t)
    f = torch.exp(log_f + m_prev - m)  # (S8) f′_t = exp(log f_t + m_{t−1} − m_t)
    return m, i, f


def _draw(g):
    N, H = size(g, 1, 4), size(g, 2, 5)
    return {
        "log_i": rand(g, N, H, scale=3.0),
        "log_f": logsigmoid(rand(g, N, H, scale=3.0)),
        "m_prev": rand(g, N, H, scale=3.0),
    }


_AXES = ("row", "unit")
EXERCISE = Exercise(
    chapter="slstm",
    labels={
        "S6": "m_t = max(log f_t + m_{t−1}, log i_t)",
        "S7": "i′_t = exp(log i_t − m_t)",
        "S8": "f′_t = exp(log f_t + m_{t−1} − m_t)",
    },
    returns=(
        Quantity("m", "S6", _AXES, "the larger of log f_t + m_{t−1} and log i_t"),
        Quantity("i", "S7", _AXES, "log i_t and m_t: exp(log i_t − m_t), at most 1"),
        Quantity("f", "S8", _AXES, "log f_t, m_{t−1} and m_t: exp(log f_t + m_{t−1} − m_t)"),
    ),
    probes=(Probe("random log i_t, log f_t ≤ 0, m_{t−1}", _draw),),
    solution=slstm_stabilised_gates,
    hint="m_t is the larger of the two log-gates (the forget one carries m_{t−1}); "
    "subtract it inside each exp(), so one of i′_t, f′_t is exactly 1.",
)
