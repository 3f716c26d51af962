"""Recording dL/dh_t (and dL/dc_t) at every step during one backward pass, from our own BPTT.

    with scratch.record_state_grads(model) as rec:
        loss.backward()
    rec[(layer, direction)]["h"]    # (L, N, H_out): dL/dh_t, the total gradient reaching h_t

The backward loops compute these gradients anyway; while a recorder is on, they also copy each
step's into a buffer. Off, the only cost is one dictionary lookup per layer and backward pass.
The tensors are time-major whatever ``batch_first`` is, in the batch's own order; for packed
input they have the padded layout, with zeros past each sequence's end. docs/gradients.md.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from scratch import recorder
from scratch.modules import RNNBase
from scratch.recorder import StateGrads


@contextmanager
def record_state_grads(module: nn.Module) -> Iterator[StateGrads]:
    """Record dL/d(state_t) of every step, layer and direction of the one scratch recurrent
    layer in ``module`` (the layer itself, or a model holding it) while the block runs."""
    layers = [m for m in module.modules() if isinstance(m, RNNBase)]
    if len(layers) != 1:
        found = "none" if not layers else f"{len(layers)}"
        raise ValueError(
            f"record_state_grads needs exactly one scratch recurrent layer in the module, found "
            f"{found}; pass the layer itself"
        )
    layer = layers[0]
    if layer.bptt == "autograd":
        raise ValueError(
            "record_state_grads reads our own BPTT: build the layer with bptt='manual' or "
            "'readable', not 'autograd'"
        )
    recording = recorder.start(id(layer))
    try:
        yield recording
    finally:
        recorder.stop(id(layer))
