"""Every scratch module runs wherever its parameters and input are: no tensor is made on the CPU
behind the caller's back. Checked on the meta device, which holds shapes and no data: a CPU
tensor mixed into its computation is an error there, as it is on CUDA, so this CPU-only test
finds what would break on a GPU (tests/test_cuda.py runs the real thing where there is one)."""

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

import scratch
from scratch.checks import BPTT_CHOICES

META = torch.device("meta")
LAYERS = ("RNN", "LSTM", "GRU", "MinGRU", "MinLSTM")
CELLS = ("RNNCell", "LSTMCell", "GRUCell")


def _layer(name: str, bptt: str, **options) -> torch.nn.Module:
    return getattr(scratch, name)(3, 5, num_layers=2, bptt=bptt, device=META, **options)


def _backward_reaches_every_parameter(module, output) -> None:
    output.sum().backward()
    for name, p in module.named_parameters():
        assert p.grad is not None and p.grad.device == META, name


@pytest.mark.parametrize("bptt", BPTT_CHOICES)
@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("layout", ["plain", "packed", "unsorted"])
def test_layers_run_forward_and_backward_on_the_meta_device(name, bptt, layout):
    layer = _layer(name, bptt, bidirectional=True, dropout=0.5).train()
    x = torch.randn(4, 3, 3, device=META, requires_grad=True)  # (L, N, H_in)
    if layout == "plain":
        output, _ = layer(x)
    else:
        lengths = torch.tensor([4, 2, 1] if layout == "packed" else [2, 4, 1])
        output, _ = layer(pack_padded_sequence(x, lengths, enforce_sorted=layout == "packed"))
        output = output.data
    assert output.device == META
    _backward_reaches_every_parameter(layer, output)


@pytest.mark.parametrize("bptt", BPTT_CHOICES)
def test_an_lstm_with_projection_and_initial_state_runs_on_the_meta_device(bptt):
    lstm = _layer("LSTM", bptt, proj_size=2, batch_first=True)
    h0, c0 = torch.zeros(2, 3, 2, device=META), torch.zeros(2, 3, 5, device=META)
    output, _ = lstm(torch.randn(3, 4, 3, device=META), (h0, c0))  # (N, L, H_in)
    _backward_reaches_every_parameter(lstm, output)


@pytest.mark.parametrize("bptt", BPTT_CHOICES)
@pytest.mark.parametrize("name", CELLS)
def test_cells_run_forward_and_backward_on_the_meta_device(name, bptt):
    cell = getattr(scratch, name)(3, 5, bptt=bptt, device=META)
    out = cell(torch.randn(2, 3, device=META))
    _backward_reaches_every_parameter(cell, out[0] if isinstance(out, tuple) else out)


@pytest.mark.parametrize("bptt", ["manual", "readable"])
def test_the_state_gradient_recorder_keeps_its_buffers_on_the_layers_device(bptt):
    gru = _layer("GRU", bptt)
    x = torch.randn(4, 3, 3, device=META)
    packed = pack_padded_sequence(x, torch.tensor([2, 4, 1]), enforce_sorted=False)
    with scratch.record_state_grads(gru) as recorded:
        output, _ = gru(packed)
        output.data.sum().backward()
    assert {grads["h"].device for grads in recorded.values()} == {META}
