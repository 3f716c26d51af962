"""Every cell by its key: the one list of cells. unroll.py, modules.py, cells.py, compare/, the
tasks (through tasks/impl.py), the help texts and the tests read a cell from here.

A new cell is its file in scratch/equations/ (which declares it, key included), one line here,
and its layer class exported from scratch/__init__.py; docs/adding-a-cell.md walks through the
rest (tests, docs).
"""

from scratch.declaration import Cell
from scratch.equations.chogru import CHOGRU_CELL
from scratch.equations.elman import RNN_RELU_CELL, RNN_TANH_CELL
from scratch.equations.gru import GRU_CELL
from scratch.equations.indrnn import INDRNN_CELL
from scratch.equations.lnlstm import LNLSTM_CELL
from scratch.equations.lstm import LSTM_CELL
from scratch.equations.mingru import MINGRU_CELL
from scratch.equations.minlstm import MINLSTM_CELL
from scratch.equations.peephole import PEEPHOLE_CELL
from scratch.equations.variational import VARIATIONAL_CELL
from scratch.equations.zoneout import ZONEOUT_CELL

CELLS: dict[str, Cell] = {
    cell.key: cell
    for cell in (
        RNN_TANH_CELL,
        RNN_RELU_CELL,
        LSTM_CELL,
        GRU_CELL,
        MINGRU_CELL,
        MINLSTM_CELL,
        LNLSTM_CELL,
        PEEPHOLE_CELL,
        CHOGRU_CELL,
        VARIATIONAL_CELL,
        ZONEOUT_CELL,
        INDRNN_CELL,
    )
}

# Spellings of a key that earlier versions used: torch.nn's mode in capitals ("LSTM",
# "RNN_TANH") was the registry's key, and "rnn" the tasks' name for the tanh Elman RNN.
OLD_SPELLINGS = {"rnn": "rnn_tanh"} | {key.upper(): key for key in CELLS}


def cell(key: str) -> Cell:
    """The declaration of the cell ``key`` names ("lstm", "rnn_tanh", ...)."""
    try:
        return CELLS[key]
    except KeyError:
        new = OLD_SPELLINGS.get(key)
        if new is not None:
            raise ValueError(f"unknown cell {key!r}: it is now called {new!r}") from None
        raise ValueError(f"unknown cell {key!r}: expected one of {', '.join(CELLS)}") from None
