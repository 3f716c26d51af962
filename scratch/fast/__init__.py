"""The fast path: what bptt="manual" runs. The same equations as the cells in scratch/equations/,
written as buffered, in-place loops over a whole layer (one file per cell that has one, each
ending with its ManualLoop), the parallel scan of the minimal RNNs and its backward, the
backward's toolkit (blocks.py: runs of steps sized for the cache, BPTT's hand-over between
steps), and the workspace whose buffers a backward keeps from one call to the next. Read
scratch/equations/ first.
"""
