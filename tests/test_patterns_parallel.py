"""The four pattern demos under two processes (tasks/parallel.py): each process takes its rows of
every batch, and the two train with the losses of one process on the whole batch, step by step.

Their losses are means over items that rows hold unequally (a caption's words, a window's scored
letters, a speech's class weight); a process's loss is its share of that mean
(tasks/patterns/training.py ``share_of_mean``). A batch of 5 rows, split 2 / 3, checks the
weighing where the halves differ."""

import json
from dataclasses import replace

from tasks import loop
from tasks.patterns import many_to_many, many_to_one, one_to_many, seq2seq
from tests.spawn import spawn

STEPS = 8
TOLERANCE = 1e-5  # float32: the two processes add their shares in another order
DEMOS = {
    # a smoke model; the training sets of 13 speeches and 13 dates end each epoch with a batch
    # of 5 rows (batches of 8), which two processes split 2 / 3
    "many-to-one": (many_to_one, {"max_speeches": 13}),
    "one-to-many": (one_to_many, {}),
    "many-to-many": (many_to_many, {}),
    "seq2seq": (seq2seq, {"train_pairs": 13}),
}


def losses(demo: str) -> tuple[list[float], list[int]]:
    """(the training loss of every step, the rows this process took of the last batch)."""
    package, changes = DEMOS[demo]
    cfg = replace(package.PRESETS["smoke"], steps=STEPS, eval_every=STEPS, **changes)
    prepared = package.train.prepare(cfg, progress=False)
    prepared.loop.print_evals = False
    history = loop.train(prepared.task, prepared.loop)
    return history.train, list(prepared.task.shard.taken)


def _train_every_demo(rank: int, folder) -> None:
    (folder / f"rank{rank}.json").write_text(json.dumps({demo: losses(demo) for demo in DEMOS}))


def test_two_processes_train_each_demo_with_the_losses_of_one(tmp_path):
    spawn(_train_every_demo, 2, tmp_path, tmp_path)
    ranks = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in (0, 1)]
    for demo in DEMOS:
        one, taken = losses(demo)
        (two, taken_0), (again, taken_1) = ranks[0][demo], ranks[1][demo]
        assert two == again  # every process logs the same, all-reduced loss
        assert len(two) == len(one) == STEPS
        worst = max(abs(a - b) for a, b in zip(two, one, strict=True))
        assert worst <= TOLERANCE, (demo, worst)
        rows = taken[1]
        assert taken_0[1] == taken_1[1] == rows and taken_0[0] + taken_1[0] == rows
        assert taken_0[0] < rows  # each process computed its part, not the whole batch


def test_the_small_splits_end_an_epoch_with_a_batch_that_halves_unevenly():
    """What the test above relies on: step 1 of each epoch reads 5 of the 13 examples."""
    for demo in ("many-to-one", "seq2seq"):
        package, changes = DEMOS[demo]
        cfg = replace(package.PRESETS["smoke"], **changes)
        batches = package.train.prepare(cfg, progress=False).task.batches
        assert [len(batches(k)) for k in range(4)] == [8, 5, 8, 5]
