"""Elman RNN, LSTM and GRU from first principles, with hand-written backpropagation through time.

Three layers, each small: the cells (elman.py, lstm.py, gru.py: one step forward and the same
step backward), the unrolling over time (unroll.py: the loop and BPTT), and the torch.nn-
compatible modules (modules.py, cells.py). Start reading at docs/cells.md.
"""

from scratch.cells import GRUCell, LSTMCell, RNNCell
from scratch.minimal import MinGRU, MinLSTM
from scratch.modules import GRU, LSTM, RNN
from scratch.plain import plain_backward, plain_forward
from scratch.record import record_state_grads
from scratch.variants import ChoGRU, LayerNormLSTM, PeepholeLSTM, VariationalLSTM, ZoneoutLSTM

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell", "record_state_grads"]

# The minimal RNNs (docs/minimal.md): scratch only, since torch.nn has no such layers.
__all__ += ["MinGRU", "MinLSTM"]
__all__ += ["LayerNormLSTM", "PeepholeLSTM", "ChoGRU", "VariationalLSTM", "ZoneoutLSTM"]
# The plain loop over time (docs/layers.md#plain): one layer, one direction, read it first.
__all__ += ["plain_forward", "plain_backward"]
