"""The fast path: what bptt="manual" runs. The same equations as the cells in scratch/equations/,
written as buffered, in-place loops over a whole layer (one file per cell that has one), the
parallel scan of the minimal RNNs and its backward, and the workspace whose buffers the fast
backward keeps from one call to the next. Read scratch/equations/ first.
"""
