"""The equations: one file per cell, each holding one time step forward and the same step
backward, one line per equation with its label (E1, L6, G3, ...), and at its end the cell's
declaration. This is the room a learner reads; start at docs/cells.md.

Nothing here imports scratch/fast/ but the one name a cell's declaration needs: its manual
loop (``manual_loop=``), the same equations arranged for speed.
"""
