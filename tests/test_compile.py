"""torch.compile(fullgraph=True) and torch.export over scratch layers: each layer and direction
is one operator in the graph (scratch/layer_op.py), whose backward is our BPTT; the compiled
module gives the eager numbers (outputs, states, every gradient), its graph does not grow with
T (the time loop is not unrolled), and an exported program runs at other lengths and batches.
Compiling takes about a second a case: the cases are few and tiny."""

import pytest
import torch
from torch import nn
from torch.export import Dim

import scratch

EXACT = {"rtol": 1e-12, "atol": 1e-12}


def make(name: str, bptt: str = "manual", **kw):
    torch.manual_seed(0)
    return getattr(scratch, name)(3, 4, bptt=bptt, **kw).double()


def answers(module, run, x) -> tuple:
    """Outputs, states and the gradients of a loss of all of them w.r.t. x and parameters."""
    x = x.clone().requires_grad_()
    out = run(x)
    flat = out if isinstance(out, tuple) else (out,)
    flat = [t for o in flat for t in (o if isinstance(o, tuple) else (o,))]
    loss = sum((t * t.cos()).sum() for t in flat)
    grads = torch.autograd.grad(loss, (x, *module.parameters()))
    return [t.detach() for t in flat], grads


@pytest.mark.parametrize(
    ("name", "bptt", "kw"),
    [
        ("RNN", "manual", {"num_layers": 2, "bidirectional": True}),
        ("RNN", "manual", {"nonlinearity": "relu"}),
        ("LSTM", "manual", {"proj_size": 2, "bidirectional": True}),
        ("GRU", "manual", {"num_layers": 2}),
        ("LSTM", "readable", {}),
        ("MinGRU", "manual", {}),  # saved tensors the operator cannot return: recomputed
    ],
)
def test_compiled_module_gives_the_eager_numbers(name, bptt, kw):
    module = make(name, bptt, **kw)
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(answers(module, compiled, x), answers(module, module, x), **EXACT)


def test_under_bptt_autograd_the_compiler_traces_the_readable_loop():
    """No operator there: autograd over the Python loop is what that choice asks for."""
    module = make("RNN", "autograd")
    x = torch.randn(2, 2, 3, dtype=torch.float64)
    compiled = torch.compile(module, fullgraph=True, backend="aot_eager")  # no code generation
    torch.testing.assert_close(answers(module, compiled, x), answers(module, module, x), **EXACT)


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_compiled_cells_give_the_eager_numbers(name):
    module = make(name)
    x = torch.randn(2, 3, dtype=torch.float64)
    compiled = torch.compile(module, fullgraph=True)
    torch.testing.assert_close(answers(module, compiled, x), answers(module, module, x), **EXACT)


def test_the_time_loop_is_one_node_whatever_T():
    """The graph dynamo hands the compiler holds each layer as one scratch.layer node and is
    the same size at T = 4 and T = 256: the loop is not unrolled into it."""
    sizes = {}
    for T in (4, 256):
        graphs = []

        def backend(gm, example_inputs, graphs=graphs):
            graphs.append(gm)
            return gm.forward

        torch._dynamo.reset()
        module = make("LSTM", num_layers=2)
        torch.compile(module, backend=backend, fullgraph=True)(torch.randn(T, 2, 3).double())
        (gm,) = graphs
        sizes[T] = len(gm.graph.nodes)
        assert str(gm.code).count("scratch.layer") == 2  # one per layer
    assert sizes[4] == sizes[256]


def test_export_with_dynamic_time_and_batch_runs_at_other_sizes():
    module = make("GRU", num_layers=2, bidirectional=True)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = module

        def forward(self, x):
            return self.rnn(x)

    dims = {"x": {0: Dim("T", min=2, max=4096), 1: Dim("N", min=2, max=1024)}}
    x = torch.randn(6, 2, 3, dtype=torch.float64)
    program = torch.export.export(Model(), (x,), dynamic_shapes=dims).module()
    for T, N in ((6, 2), (17, 5), (2, 9)):
        other = torch.randn(T, N, 3, dtype=torch.float64)
        torch.testing.assert_close(program(other), module(other), **EXACT)
