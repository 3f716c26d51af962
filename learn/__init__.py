"""Exercises that check themselves: fill a blank, run it against ours, and learn which equation is wrong.

``python -m learn list | blank EXERCISE | check EXERCISE FILE.py | solution EXERCISE``; in a
notebook, ``learn.check(function)``. Each exercise lives in ``learn/exercises/``; the checker is
``learn/check.py``.
"""

from learn.check import check, report

__all__ = ["check", "report"]
