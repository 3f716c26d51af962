"""``python -m tasks.state lab``: every row of the table on both problems, one run folder each,
then the table (table.md) and the figure (accuracy.png) of held-out accuracy by length.

Each run folder is what ``python -m tasks.state train --out FOLDER`` writes, so a row can be
continued on its own with ``train --out FOLDER --resume``. Running the lab again over the same
``--out`` reuses every finished run and resumes a stopped one.
"""

import json
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

from tasks import files, loop
from tasks.errors import BadInput
from tasks.state import figures
from tasks.state.config import PRESETS, ROWS, LabConfig, StateConfig
from tasks.state.data import PROBLEMS
from tasks.state.train import prepare, results

TASK = "state"
RESULTS = "results.json"


def train_in(cfg: StateConfig, folder: Path, progress: bool) -> dict:
    """Train ``cfg`` in ``folder``, or reuse what an earlier lab left there. Returns results."""
    if (folder / RESULTS).exists():
        saved = json.loads((folder / loop.CONFIG).read_text())["config"]
        if {**saved, "device": cfg.device} != asdict(cfg):
            raise BadInput(f"{folder} holds a run of another config: choose another --out")
        return json.loads((folder / RESULTS).read_text())
    prepared = prepare(cfg, progress=progress)
    meta = {"task": TASK, "config": asdict(cfg), "data": prepared.data, **prepared.meta}
    quiet = replace(prepared.loop, print_evals=False)
    cpu = time.process_time()
    history = loop.train(
        prepared.task, quiet, folder, meta, resume=(folder / loop.CHECKPOINT).exists()
    )
    outcome = results(cfg, history) | {"cpu_seconds": time.process_time() - cpu}
    files.write_json(outcome, folder / RESULTS)
    return outcome


def run(options: LabConfig) -> int:
    """Train what is missing, then write table.md and accuracy.png into ``--out``."""
    out = Path(options.out or Path("runs", "state", time.strftime("lab-%Y%m%d-%H%M%S")))
    preset = PRESETS["smoke" if options.smoke else "default"]
    if options.steps is not None:
        preset = replace(preset, steps=options.steps)
    problems = options.problems or list(PROBLEMS)
    names = dict((cell, name) for name, cell in ROWS)
    cells = options.cells or [cell for _, cell in ROWS]
    unknown = [c for c in cells if c not in names]
    if unknown:
        raise BadInput(f"--cells {' '.join(unknown)}: expected some of {' '.join(names)}")
    found: dict[str, dict[str, dict]] = {}
    for problem in problems:
        for cell in cells:
            cfg = replace(preset, problem=problem, cell=cell, impl=options.impl, seed=options.seed)
            outcome = train_in(cfg, out / f"{problem}-{cell}", options.progress)
            found.setdefault(problem, {})[cell] = outcome
            by = outcome["acc_by_length"]
            print(
                f"{problem} {cell}: train {outcome['acc_train']:.1%}, at {max(by, key=int)}: "
                f"{by[max(by, key=int)]:.1%} ({outcome['cpu_seconds']:.0f} CPU s)",
                file=sys.stderr,
            )
    table = figures.table(found, names, preset.seq_len)
    files.write_text(table, out / "table.md")
    files.write_figure(
        figures.accuracy_by_length(found, names, preset.seq_len), out / "accuracy.png"
    )
    print(table)
    print(f"lab folder: {out}", file=sys.stderr)
    return 0
