"""Every cell by its mode: the one table unroll.py, modules.py, cells.py, compare/ and the tests
read a cell's gates and states from. Adding a cell is one file that declares it and one line here.
"""

from scratch.declaration import Cell
from scratch.elman import RNN_RELU_CELL, RNN_TANH_CELL
from scratch.gru import GRU_CELL
from scratch.lstm import LSTM_CELL
from scratch.mingru import MINGRU_CELL
from scratch.minlstm import MINLSTM_CELL

CELLS: dict[str, Cell] = {
    cell.mode: cell
    for cell in (
        RNN_TANH_CELL,
        RNN_RELU_CELL,
        LSTM_CELL,
        GRU_CELL,
        MINGRU_CELL,
        MINLSTM_CELL,
    )
}


def cell(mode: str) -> Cell:
    """The declaration of the cell named ``mode`` ("LSTM", "RNN_TANH", ...)."""
    try:
        return CELLS[mode]
    except KeyError:
        raise ValueError(f"unknown cell {mode!r}: expected one of {', '.join(CELLS)}") from None
