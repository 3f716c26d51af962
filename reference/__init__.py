"""The six public names backed by torch.nn: the yardstick that scratch is measured against.

Each class is its torch.nn namesake, unchanged. They exist so that a demo picks an
implementation with ``importlib.import_module("scratch" | "reference")`` and nothing else.
"""

from torch.nn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"]
