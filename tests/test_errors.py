"""Same bad input, same kind of error as torch.nn, with a message naming expected and given.

Each row builds a module with some impl, then does one bad thing. torch.nn's exception type is
measured, not assumed; ours must match it, and our message must contain the given value."""

import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_sequence

import scratch

X = torch.randn(5, 2, 3)


def packed():
    return pack_sequence([torch.randn(4, 3), torch.randn(2, 3)])


def packed_by_hand(batch_sizes: list[int]) -> PackedSequence:
    """A PackedSequence built directly, which pack_sequence would refuse to make."""
    data = torch.randn(sum(batch_sizes), 3)
    return PackedSequence(data, torch.tensor(batch_sizes, dtype=torch.int64))


def readable(impl) -> dict:
    """bptt="readable" for scratch: a row that the readable loop, not only the fast one, meets."""
    return {"bptt": "readable"} if impl is scratch else {}


# (id, action(impl), text our message must contain)
BAD_INPUTS = [
    ("wrong feature size", lambda m: m.LSTM(3, 4)(torch.randn(5, 2, 7)), "got 7"),
    ("1-D input", lambda m: m.GRU(3, 4)(torch.randn(3)), "1D"),
    ("4-D input", lambda m: m.RNN(3, 4)(torch.randn(5, 2, 3, 1)), "4D"),
    ("empty sequence", lambda m: m.LSTM(3, 4)(torch.randn(0, 2, 3)), "got 0"),
    ("input dtype", lambda m: m.GRU(3, 4)(X.double()), "float64"),
    ("hx batch", lambda m: m.RNN(3, 4)(X, torch.randn(1, 3, 4)), "[1, 3, 4]"),
    ("hx layers", lambda m: m.GRU(3, 4, num_layers=2)(X, torch.randn(1, 2, 4)), "[1, 2, 4]"),
    ("hx size", lambda m: m.RNN(3, 4)(X, torch.randn(1, 2, 5)), "[1, 2, 5]"),
    (
        "h0 size",
        lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 5), torch.randn(1, 2, 4))),
        "[1, 2, 5]",
    ),
    (
        "c0 size",
        lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 4), torch.randn(1, 2, 3))),
        "[1, 2, 3]",
    ),
    (
        "proj h0 size",
        lambda m: m.LSTM(3, 4, proj_size=2)(X, (torch.randn(1, 2, 4), torch.randn(1, 2, 4))),
        "[1, 2, 4]",
    ),
    ("2-D hx, 3-D input", lambda m: m.GRU(3, 4)(X, torch.randn(2, 4)), "2-D"),
    ("3-D hx, 2-D input", lambda m: m.RNN(3, 4)(torch.randn(5, 3), torch.randn(1, 1, 4)), "3-D"),
    (
        "3-D hx, unbatched LSTM",
        lambda m: m.LSTM(3, 4)(torch.randn(5, 3), (torch.randn(1, 1, 4),) * 2),
        "3-D",
    ),
    ("tuple hx for GRU", lambda m: m.GRU(3, 4)(X, (torch.randn(1, 2, 4),)), "tuple"),
    ("one-state hx for LSTM", lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 4),)), "index"),
    ("packed hx batch", lambda m: m.GRU(3, 4)(packed(), torch.randn(1, 3, 4)), "[1, 3, 4]"),
    ("packed feature size", lambda m: m.LSTM(5, 4)(packed()), "got 3"),
    ("packed, no steps", lambda m: m.GRU(3, 4)(packed_by_hand([])), "empty"),
    (
        "packed, batch grows",
        lambda m: m.RNN(3, 4, **readable(m))(packed_by_hand([1, 2])),
        "1 then 2",
    ),
    ("negative hidden size", lambda m: m.LSTM(3, -4), "-4"),
    ("zero input size", lambda m: m.GRU(0, 4), "0"),
    ("float size", lambda m: m.RNN(3.0, 4), "float"),
    ("zero layers", lambda m: m.GRU(3, 4, num_layers=0), "0"),
    ("dropout above 1", lambda m: m.LSTM(3, 4, dropout=1.5), "1.5"),
    ("dropout negative", lambda m: m.GRU(3, 4, dropout=-0.1), "-0.1"),
    ("dropout bool", lambda m: m.RNN(3, 4, dropout=True), "True"),
    ("dropout None", lambda m: m.LSTM(3, 4, dropout=None), "NoneType"),
    ("bias not bool", lambda m: m.LSTM(3, 4, bias=1), "int"),
    ("batch_first not bool", lambda m: m.GRU(3, 4, batch_first="yes"), "str"),
    ("proj_size == hidden", lambda m: m.LSTM(3, 4, proj_size=4), "proj_size=4"),
    ("proj_size negative", lambda m: m.LSTM(3, 4, proj_size=-1), "-1"),
    ("proj_size on GRU", lambda m: m.GRU(3, 4, proj_size=2), "proj_size"),
    ("proj_size on RNN", lambda m: m.RNN(3, 4, proj_size=2), "proj_size"),
    ("bad nonlinearity", lambda m: m.RNN(3, 4, nonlinearity="sigmoid"), "sigmoid"),
    ("cell: wrong feature size", lambda m: m.RNNCell(3, 4)(torch.randn(2, 5)), "got 5"),
    ("cell: 3-D input", lambda m: m.GRUCell(3, 4)(torch.randn(1, 2, 3)), "3D"),
    ("cell: hx batch", lambda m: m.GRUCell(3, 4)(torch.randn(2, 3), torch.randn(3, 4)), "3"),
    ("cell: hx size", lambda m: m.RNNCell(3, 4)(torch.randn(2, 3), torch.randn(2, 6)), "got 6"),
    ("cell: 3-D hx", lambda m: m.RNNCell(3, 4)(torch.randn(2, 3), torch.randn(1, 2, 4)), "3D"),
    (
        "cell: c size",
        lambda m: m.LSTMCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4), torch.randn(2, 5))),
        "got 5",
    ),
    ("cell: one state", lambda m: m.LSTMCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4),)), "1"),
    (
        "cell: hx dtype",
        lambda m: m.GRUCell(3, 4)(torch.randn(2, 3), torch.randn(2, 4).double()),
        "float64",
    ),
    ("cell: negative size", lambda m: m.LSTMCell(3, -2), "-2"),
    # malformed hx: every case of torch.nn's own checks and of its kernels' refusals
    (
        "cell: lone tensor for (h, c)",
        lambda m: m.LSTMCell(3, 4)(torch.randn(2, 3), torch.randn(2, 4)),
        "one Tensor",
    ),
    (
        "cell: lone 1-D tensor for (h, c)",
        lambda m: m.LSTMCell(3, 4)(torch.randn(3), torch.randn(4)),
        "0D",
    ),
    (
        "cell: three states",
        lambda m: m.LSTMCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4),) * 3),
        "3",
    ),
    ("cell: no states", lambda m: m.LSTMCell(3, 4)(torch.randn(2, 3), ()), "0"),
    (
        "cell: c is None",
        lambda m: m.LSTMCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4), None)),
        "NoneType",
    ),
    ("three states for LSTM", lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 4),) * 3), "3"),
    ("no states for LSTM", lambda m: m.LSTM(3, 4)(X, ()), "index"),
    ("lone tensor for LSTM", lambda m: m.LSTM(3, 4)(X, torch.randn(1, 2, 4)), "index"),
    ("c_0 is None", lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 4), None)), "NoneType"),
    (
        "c_0 dtype",
        lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 4), torch.randn(1, 2, 4).double())),
        "float64",
    ),
    ("h_0 dtype", lambda m: m.GRU(3, 4)(X, torch.randn(1, 2, 4).double()), "float64"),
    (
        "h_0 and c_0 dims differ",
        lambda m: m.LSTM(3, 4)(X, (torch.randn(1, 2, 4), torch.randn(2, 4))),
        "2-D",
    ),
    ("list hx for GRU", lambda m: m.GRU(3, 4)(X, [torch.randn(1, 2, 4)]), "list"),
    ("int hx for RNN", lambda m: m.RNN(3, 4)(X, 5), "int"),
    (
        "cell: tuple hx for GRUCell",
        lambda m: m.GRUCell(3, 4)(torch.randn(2, 3), (torch.randn(2, 4),)),
        "tuple",
    ),
    (
        "cell: bad nonlinearity",
        lambda m: m.RNNCell(3, 4, nonlinearity="sig")(torch.randn(2, 3)),
        "sig",
    ),
]


@pytest.mark.parametrize(
    "action, given", [row[1:] for row in BAD_INPUTS], ids=[r[0] for r in BAD_INPUTS]
)
def test_same_error_as_torch_nn(action, given):
    with pytest.raises(Exception) as theirs:
        action(nn)
    with pytest.raises(Exception) as ours:
        action(scratch)
    assert type(ours.value) is type(theirs.value), (
        f"torch.nn: {theirs.value!r}; ours: {ours.value!r}"
    )
    assert given in str(ours.value), f"our message should name {given!r}: {ours.value}"


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        scratch.LSTM(3, 4, dropout=0.5)
