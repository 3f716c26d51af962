"""Every cell by its mode: the one table unroll.py, modules.py, cells.py, compare/ and the tests
read a cell's gates and states from. Adding a cell is one file that declares it and one line here.
"""

from scratch.declaration import Cell
from scratch.equations.chogru import CHOGRU_CELL
from scratch.equations.elman import RNN_RELU_CELL, RNN_TANH_CELL
from scratch.equations.gru import GRU_CELL
from scratch.equations.lnlstm import LNLSTM_CELL
from scratch.equations.lstm import LSTM_CELL
from scratch.equations.mingru import MINGRU_CELL, MINGRU_NEG_CELL
from scratch.equations.minlstm import MINLSTM_CELL
from scratch.equations.peephole import PEEPHOLE_CELL
from scratch.equations.rglru import RGLRU_CELL
from scratch.equations.slstm import SLSTM_CELL, SLSTM_EXP_CELL
from scratch.equations.variational import VARIATIONAL_CELL
from scratch.equations.zoneout import ZONEOUT_CELL

CELLS: dict[str, Cell] = {
    cell.mode: cell
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
        SLSTM_CELL,
        SLSTM_EXP_CELL,
        RGLRU_CELL,
        MINGRU_NEG_CELL,
    )
}


def cell(mode: str) -> Cell:
    """The declaration of the cell named ``mode`` ("LSTM", "RNN_TANH", ...)."""
    try:
        return CELLS[mode]
    except KeyError:
        raise ValueError(f"unknown cell {mode!r}: expected one of {', '.join(CELLS)}") from None
