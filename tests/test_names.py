"""One key per cell, the spellings that came before it, and torch.nn's constructor arguments
bound by position or keyword (scratch/registry.py, scratch/arguments.py, docs/contract.md)."""

import pytest
from torch import nn

import scratch
from compare import equiv
from compare.cli import build_parser
from scratch import registry
from tasks import impl
from tasks.errors import BadInput


def test_every_cell_file_declares_the_key_the_registry_files_it_under():
    for key, cell in registry.CELLS.items():
        assert cell.key == key and key == key.lower()
        assert cell.about and cell.layer  # what the help texts and the tasks read
        assert hasattr(scratch, cell.layer), cell.layer


@pytest.mark.parametrize(
    "old, new", [("LSTM", "lstm"), ("RNN_TANH", "rnn_tanh"), ("rnn", "rnn_tanh")]
)
def test_an_old_registry_spelling_fails_in_one_line_naming_the_key(old, new):
    with pytest.raises(ValueError, match=rf"^unknown cell '{old}': it is now called '{new}'$"):
        registry.cell(old)


def test_the_tasks_take_every_key_and_the_old_rnn():
    assert set(impl.CELLS) == set(registry.CELLS)
    assert impl.key("rnn") == "rnn_tanh"
    layer = impl.layer_class("scratch", "rnn_relu")(3, 4)
    assert type(layer) is scratch.RNN and layer.nonlinearity == "relu"
    with pytest.raises(BadInput, match="^--cell qrnn: unknown cell, expected one of rnn_tanh, "):
        impl.key("qrnn")


def test_compare_takes_old_configuration_names_as_key_plus_option():
    args = build_parser().parse_args(["equiv", "--cells", "lstm_proj,gru_cell,rnn_tanh"])
    assert args.cells == ["lstm:proj", "gru:step", "rnn_tanh"]
    assert set(equiv.OLD_SPELLINGS.values()) <= set(equiv.MATRIX_CELLS)


def test_a_layer_binds_its_arguments_by_position_as_torch_nn_does():
    by_position = scratch.LSTM(3, 4, 2, False, True, 0.0, True, 2)
    by_keyword = scratch.LSTM(
        3, 4, num_layers=2, bias=False, batch_first=True, bidirectional=True, proj_size=2
    )
    torch_nn = nn.LSTM(3, 4, 2, False, True, 0.0, True, 2)
    for layer in (by_position, by_keyword):
        shapes = {k: v.shape for k, v in layer.state_dict().items()}
        assert shapes == {k: v.shape for k, v in torch_nn.state_dict().items()}
        assert layer.batch_first and layer.bidirectional and layer.proj_size == 2
    rnn = scratch.RNN(3, 4, 1, "relu")  # nonlinearity fourth, as torch.nn.RNN takes it
    assert rnn.nonlinearity == "relu" and rnn.mode == nn.RNN(3, 4, 1, "relu").mode


@pytest.mark.parametrize(
    "build, says",
    [
        (lambda: scratch.LSTM(3), "LSTM missing required argument 'hidden_size'"),
        (lambda: scratch.GRU(3, 4, 1, True, False, 0.0, False, None, None, "manual", 5),
         "GRU takes at most 10 positional arguments"),
        (lambda: scratch.GRU(3, 4, hidden_size=5), "GRU got multiple values for argument 'hidden_size'"),
        (lambda: scratch.LSTMCell(3, 4, proj_size=2), "LSTMCell got unexpected keyword"),
    ],
)  # fmt: skip
def test_a_wrong_call_is_a_type_error_that_names_the_class(build, says):
    with pytest.raises(TypeError, match=f"^{says}"):
        build()


def test_the_variants_rates_are_positional_after_bidirectional():
    layer = scratch.ZoneoutLSTM(3, 4, 1, True, False, 0.0, False, 0.2, 0.3)
    assert (layer.zoneout_h, layer.zoneout_c) == (0.2, 0.3)
