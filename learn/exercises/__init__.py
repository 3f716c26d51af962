"""The exercises, in the order of the learning path: each module holds one (its blank's
signature, its seeded inputs, our solution, and the label of every quantity)."""

from learn.exercise import Exercise
from learn.exercises import (
    attention,
    clip_grad_norm,
    decoder_step,
    elman_bptt,
    elman_step,
    elman_step_backward,
    elman_step_tangent,
    gru_d_h_prev,
    lstm_cell_state,
    lstm_cell_state_backward,
    lstm_gates_backward,
    mingru_negative_step,
    mingru_step_backward,
    peephole_d_c_prev,
    rglru_step,
    sample_next,
    scaled_error,
    sliding_windows,
    slstm_stabilised_gates,
)

# the chapters of the learning path, in order; each notebook ends with its chapter's exercises
CHAPTERS = (
    "start",
    "cells",
    "layers",
    "compare",
    "text",
    "series",
    "patterns",
    "gradients",
    "variants",
    "minimal",
    "slstm",
    "rglru",
    "state",
    "forward",
)
_MODULES = (
    elman_step,
    elman_step_backward,
    lstm_cell_state,
    lstm_cell_state_backward,
    lstm_gates_backward,
    gru_d_h_prev,
    elman_bptt,
    scaled_error,
    sample_next,
    sliding_windows,
    decoder_step,
    attention,
    clip_grad_norm,
    peephole_d_c_prev,
    mingru_step_backward,
    slstm_stabilised_gates,
    rglru_step,
    mingru_negative_step,
    elman_step_tangent,
)
EXERCISES: dict[str, Exercise] = {
    m.EXERCISE.name: m.EXERCISE
    for m in sorted(_MODULES, key=lambda m: CHAPTERS.index(m.EXERCISE.chapter))
}
