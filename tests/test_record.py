"""scratch.record_state_grads: dL/dh_t (and dL/dc_t) recorded by our BPTT at every step, layer
and direction equal what autograd gives for the same states in an unrolled torch.nn cell loop
(retain_grad on every state), packed input included; and off, it records nothing."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import scratch

LENGTHS = [3, 6, 1, 4]  # unsorted: the recorder must give them back in the batch's order
I, H, L = 3, 4, 6


def torch_cells(model, layer: int, direction: int):
    """A torch.nn cell holding the weights of one layer and direction of ``model``."""
    kind = {"LSTM": nn.LSTMCell, "GRU": nn.GRUCell}.get(type(model).__name__, nn.RNNCell)
    size = I if layer == 0 else 2 * H
    cell = kind(size, H).double()
    suffix = f"_l{layer}" + ("_reverse" if direction else "")
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(cell, name).data.copy_(getattr(model, name + suffix))
    return cell


def autograd_state_grads(model, x, d_out, lengths):
    """Unroll each sequence with torch.nn cells; return {(layer, dir): {"h", "c"}} of grads."""
    is_lstm = isinstance(model, scratch.LSTM)
    states = {}  # (layer, direction, b, t) -> (h_t, c_t)
    outputs = []
    for b, length in enumerate(lengths):
        inp = [x[t, b : b + 1] for t in range(length)]
        for layer in range(model.num_layers):
            per_direction = []
            for direction in range(2):
                cell = torch_cells(model, layer, direction)
                h = torch.zeros(1, H, dtype=torch.float64)
                c = torch.zeros(1, H, dtype=torch.float64)
                out = [None] * length
                order = range(length - 1, -1, -1) if direction else range(length)
                for t in order:
                    if is_lstm:
                        h, c = cell(inp[t], (h, c))
                        c.retain_grad()
                    else:
                        h = cell(inp[t], h)
                    h.retain_grad()
                    states[(layer, direction, b, t)] = (h, c)
                    out[t] = h
                per_direction.append(out)
            inp = [torch.cat([f, r], dim=1) for f, r in zip(*per_direction, strict=True)]
        outputs.append(inp)
    loss = sum((outputs[b][t] * d_out[t, b]).sum() for b, n in enumerate(lengths) for t in range(n))
    loss.backward()
    grads = {}
    for layer in range(model.num_layers):
        for direction in range(2):
            rec = {"h": torch.zeros(L, len(lengths), H, dtype=torch.float64)}
            if is_lstm:
                rec["c"] = torch.zeros_like(rec["h"])
            for b, n in enumerate(lengths):
                for t in range(n):
                    h, c = states[(layer, direction, b, t)]
                    rec["h"][t, b] = h.grad[0]
                    if is_lstm:
                        rec["c"][t, b] = c.grad[0]
            grads[(layer, direction)] = rec
    return grads


@pytest.mark.parametrize("bptt", ["manual", "readable"])
@pytest.mark.parametrize("cls", [scratch.RNN, scratch.LSTM, scratch.GRU])
def test_recorded_state_grads_equal_autograds(cls, bptt):
    torch.manual_seed(0)
    model = cls(I, H, num_layers=2, bidirectional=True, bptt=bptt).double()
    x = torch.randn(L, len(LENGTHS), I, dtype=torch.float64)
    d_out = torch.randn(L, len(LENGTHS), 2 * H, dtype=torch.float64)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    output, _ = model(packed)
    padded, _ = pad_packed_sequence(output, total_length=L)
    with scratch.record_state_grads(model) as rec:
        (padded * d_out).sum().backward()
    expected = autograd_state_grads(model, x, d_out, LENGTHS)
    assert set(rec) == set(expected)
    for key, states in expected.items():
        assert set(rec[key]) == set(states)
        for name, grad in states.items():
            torch.testing.assert_close(rec[key][name], grad, rtol=1e-12, atol=1e-12)


def test_batch_first_and_unbatched_are_recorded_time_major():
    model = scratch.GRU(I, H, batch_first=True).double()
    x = torch.randn(2, L, I, dtype=torch.float64)
    with scratch.record_state_grads(model) as rec:
        model(x)[0].sum().backward()
    assert rec[(0, 0)]["h"].shape == (L, 2, H)
    with scratch.record_state_grads(model) as rec:
        model(x[0])[0].sum().backward()
    assert rec[(0, 0)]["h"].shape == (L, H)
    # the last step's h_t gets only the output's gradient of one
    torch.testing.assert_close(rec[(0, 0)]["h"][-1], torch.ones(H, dtype=torch.float64))


def test_off_records_nothing_and_bad_uses_say_why():
    model = scratch.LSTM(I, H)
    with scratch.record_state_grads(model) as rec:
        pass
    model(torch.randn(L, 2, I))[0].sum().backward()  # after the block: not recorded
    assert rec == {}
    with pytest.raises(ValueError, match="bptt='manual' or 'readable'"):
        with scratch.record_state_grads(scratch.LSTM(I, H, bptt="autograd")):
            pass
    with pytest.raises(ValueError, match="exactly one scratch recurrent layer"):
        with scratch.record_state_grads(nn.Linear(2, 2)):
            pass
