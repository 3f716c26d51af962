"""``python -m tasks.patterns {many-to-one,one-to-many,many-to-many,seq2seq,digits} train ...``.

One command line for the five demos, each a ``Trainer`` of its own (tasks/cli.py
``main_of_many``): its flags generated from its config, its presets, its run folder
runs/<demo>/<date-time>, and one line for bad input (exit status 2).
"""

from tasks import cli
from tasks.patterns import digits, many_to_many, many_to_one, one_to_many, seq2seq

DESCRIPTION = (
    "The four ways to use a recurrent network, each a small real demo: many to one, one to "
    "many, synchronised many to many, asynchronous many to many (seq2seq with attention); and many to "
    "one on MNIST-1D, beside published numbers."
)

TRAINERS = {
    "many-to-one": many_to_one.TRAINER,
    "one-to-many": one_to_many.TRAINER,
    "many-to-many": many_to_many.TRAINER,
    "seq2seq": seq2seq.TRAINER,
    "digits": digits.TRAINER,
}


def main(argv: list[str] | None = None) -> int:
    """Run ``DEMO train ...``; returns the exit status."""
    return cli.main_of_many(argv, "python -m tasks.patterns", DESCRIPTION, TRAINERS)
