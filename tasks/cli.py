"""What every task's command line shares: flags generated from its config, presets, the train
command, and one way to end badly.

A task describes its ``train`` command with a ``Trainer`` (its config class, presets, how to
build what the loop trains, what to do at the end), and any other command with a ``Command``
(its options dataclass, what it runs); ``main`` builds the whole command line from them, and
``main_of_many`` that of a task of several demos, each a ``Trainer`` (``prog DEMO train ...``).
Every task then gets, the same way:

- one flag per config field (``add_config_flags``): ``hidden_size`` is ``--hidden-size``, its
  help is the field's comment, its choices and checks are the field's ``Rule``
  (tasks/config.py), applied as the flag is read; a ``bool`` field is a pair of switches
  (``--attention`` / ``--no-attention``);
- ``--preset NAME`` or ``--smoke`` (the ``smoke`` preset); flags given with either win over it;
- ``--out DIR`` (default runs/<task>/<date-time>), ``--resume``, ``--no-progress``;
- resume from the checkpoint alone: its config, its data fingerprint; ``--resume`` may change
  only the fields whose rule says ``resumable`` (the budget, the implementation), and a change to
  any other is an error naming the flags; a folder that holds a run needs ``--resume``, and one
  whose run died before its first checkpoint holds none (it starts again from step 0);
- one run per folder: the run holds the folder's lock (``files.owned``) for its whole life, so
  a second run or a ``--resume`` of a running one is refused; a dead run's lock is gone;
- exit status 0 done, 1 the run failed (``RunFailed``: diverged, disk full), 2 bad input
  (``BadInput`` and every command-line error: one line on stderr, no traceback, no run folder),
  130 interrupted (a checkpoint was saved; the line says how to continue);
- ``--device auto | cpu | cuda`` for a config with a ``device`` field, and data-parallel
  training under torchrun (tasks/parallel.py): every process joins the process group, a
  ``batch_size`` that does not split evenly across them is bad input, config.json records
  ``world_size``, and rank 0 alone prints, writes the run folder and finishes.
"""

import argparse
import os
import shutil
import signal
import sys
import threading
import time
import types
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from cmdline import Parser, checked, fits_path, launched_lead
from tasks import checkpoint, config, files, loop, parallel
from tasks.errors import BadInput, RunFailed


def add_config_flags(parser: argparse.ArgumentParser, cls: type) -> None:
    """One flag per field of config dataclass ``cls``. A flag left out is absent from the parsed
    namespace (``given`` finds only what was typed), so the preset or checkpoint decides it. A
    ``bool`` field is a pair of switches: ``attention`` is ``--attention`` / ``--no-attention``."""
    hints = typing.get_type_hints(cls)
    helps = config.comments(cls)
    for f in fields(cls):
        if hints[f.name] is bool:
            parser.add_argument(
                config.flag(f.name),
                dest=f.name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=helps[f.name],
            )
            continue
        kind, many = _flag_type(hints[f.name], f.name)
        if kind is bool:  # a switch, off unless given
            if f.default is not False:
                raise TypeError(f"config field {f.name}: a switch must default to False")
            parser.add_argument(
                config.flag(f.name),
                dest=f.name,
                action="store_true",
                default=argparse.SUPPRESS,
                help=helps[f.name],
            )
            continue
        r = config.rule(cls, f.name)
        parser.add_argument(
            config.flag(f.name),
            dest=f.name,
            type=_reader(cls, f.name, kind, many),
            choices=r.choices,
            nargs="+" if many else None,
            required=r.required,
            default=argparse.SUPPRESS,
            metavar=None if r.choices else f.name.upper(),
            help=helps[f.name] + (f": {r.vocabulary()}" if r.vocabulary else ""),
        )


def _flag_type(hint: Any, name: str) -> tuple[type, bool]:
    """(type of one value, whether the flag takes a list) for a field's annotation."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if isinstance(hint, types.UnionType) and len(args) == 1:  # X | None
        hint = args[0]
    if typing.get_origin(hint) is list and typing.get_args(hint) == (str,):
        return str, True
    if hint in (int, float, str, bool):
        return hint, False
    raise TypeError(f"config field {name}: no flag for a field of type {hint}")


def _reader(cls: type, name: str, kind: type, many: bool) -> Callable[[str], Any]:
    """An argparse type: the text as ``kind``, checked by the field's rule (a list is checked
    whole by ``config.validate``)."""
    return checked(kind, None if many else lambda value: config.check_value(cls, name, value))


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The config fields that were typed on the command line, with their values."""
    return {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}


# ---------------------------------------------------------------------------------------------
# the train command


@dataclass
class Prepared:
    """What a task builds from a config for the loop to train."""

    task: loop.Task  # model, optimizer, loss of step k, evaluation (tasks/loop.py)
    loop: loop.LoopConfig  # steps, clipping, intervals, hooks, learning-rate schedule
    meta: dict  # what the task keeps beside its config (vocabulary, scaler): plain values
    data: str  # fingerprint of the data it trains on (checkpoint.fingerprint)


def smoke_losses_of(
    prepare: Callable[..., Prepared], presets: dict[str, Any]
) -> Callable[..., list[float]]:
    """A task's ``smoke_losses(impl, steps=50, seed=0, cell=None)`` for compare's tasks check
    (tasks/registry.py): the training losses of the first ``steps`` steps of its ``smoke``
    preset on ``impl``; no files, no printing. From one seed, scratch and reference start from
    the same weights (scratch draws what torch.nn draws) and read the same batches, so the two
    lists should agree to rounding."""

    def smoke_losses(impl: str, steps: int = 50, seed: int = 0, cell: str | None = None):
        cfg = config.smoke_run(presets["smoke"], impl, steps, seed, cell)
        prepared = prepare(cfg, progress=False)
        prepared.loop.print_evals = False
        return loop.train(prepared.task, prepared.loop).train

    return smoke_losses


@dataclass
class Trainer:
    """A task's ``train`` command, described; ``train`` runs it."""

    name: str  # the task's name: every checkpoint says it; runs/<name>/ by default
    about: str  # what it trains, a few words for --help
    config: type  # the config dataclass (one comment per field)
    presets: dict[str, Any]  # name -> config; "smoke" is what --smoke and CI run
    default_preset: str  # the preset when none is named
    build: Callable[[Any, dict | None], Prepared]  # (config, saved meta on resume) -> Prepared
    finish: Callable[[Any, Prepared, loop.History, Path], None]  # after the loop: reports
    meta_checks: dict[str, Callable[[Any], bool]] = field(default_factory=dict)  # Prepared.meta's
    # entries, each with what a checkpoint's must pass (a vocabulary: distinct characters)


def add_train_command(commands: argparse._SubParsersAction, trainer: Trainer, help: str) -> None:
    """The ``train`` subcommand with its shared flags and one flag per config field."""
    p = commands.add_parser("train", help=help, description=help)
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--preset",
        choices=list(trainer.presets),
        help=f"the config to start from (default {trainer.default_preset}); flags override it",
    )
    which.add_argument(
        "--smoke", action="store_true", help="same as --preset smoke: seconds, what CI runs"
    )
    p.add_argument(
        "--out",
        type=checked(Path, fits_path),
        help=f"run folder (default runs/{trainer.name}/<date-time>)",
    )
    p.add_argument("--resume", action="store_true", help="continue the run in --out exactly")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_flags(p, trainer.config)
    p.set_defaults(run=lambda args: train(args, trainer), prog=p.prog)


def train(args: argparse.Namespace, trainer: Trainer) -> int:
    """Resolve the config, build the task, train it in the shared loop, finish; exit status.
    Under torchrun every process runs this: each joins the process group and trains its share,
    and rank 0 alone prints, writes the run folder and finishes (reports, figures). The run
    folder is this run's alone from before it is read until the run ends (``files.owned``)."""
    lead = launched_lead()
    out = args.out or Path("runs", trainer.name, time.strftime("%Y%m%d-%H%M%S"))
    with _holding(out if lead and (args.out or not args.resume) else None):
        return _train(args, trainer)


def _train(args: argparse.Namespace, trainer: Trainer) -> int:
    cfg, out, saved = resolve(args, trainer)
    on = parallel.device(getattr(cfg, "device", "cpu"))
    check_split(cfg, parallel.launched())
    world = parallel.start(on)
    try:
        with _silent_unless(world.lead):
            prepared = trainer.build(cfg, saved["meta"] if saved else None)
            if saved is not None:
                check_data(
                    saved,
                    prepared.data,
                    out / loop.CHECKPOINT,
                    "resume with the same data, or start a new run",
                )
                checkpoint.load_weights(prepared.task.model, saved["model"], out / loop.CHECKPOINT)
                loop.check_budget(saved["step"], prepared.loop.steps, out)
            prepared.loop = replace(prepared.loop, progress=not args.no_progress)
            meta = {
                "task": trainer.name,
                "config": asdict(cfg),
                "data": prepared.data,
                "world_size": world.size,  # processes that trained it (torchrun); 1 without
                **prepared.meta,
            }
            if world.lead:
                where = f" ({world.size} processes)" if world.size > 1 else ""
                print(f"run folder {out}{where}: {asdict(cfg)}", file=sys.stderr)
            resume = saved is not None
            history = loop.train(prepared.task, prepared.loop, out, meta, resume=resume)
            if world.lead:
                trainer.finish(cfg, prepared, history, out)
            world.barrier()  # every process leaves the group together, after rank 0's finish
    finally:
        parallel.stop()
    return 0


@contextmanager
def _holding(out: Path | None) -> Iterator[None]:
    """Make the run folder ``out`` and hold it for this run (``files.owned``); a folder made
    here is removed again when the run refuses its input before writing anything into it, so
    bad input leaves no run folder. ``None``: hold nothing (another rank of torchrun)."""
    if out is None:
        yield
        return
    made = not out.exists()
    files.make_folder(out)
    try:
        with files.owned(out):
            yield
    except BadInput:
        if made and {p.name for p in out.iterdir()} <= {files.LOCK}:
            shutil.rmtree(out, ignore_errors=True)
        raise


def check_data(saved: dict, data: str, path: Path, fix: str) -> None:
    """``BadInput`` when the data found now are not those the run at ``path`` trained on
    (their fingerprints differ): every command that reads a run's data checks this. ``fix``:
    what to do instead."""
    if saved["meta"].get("data") != data:
        raise BadInput(f"the training data has changed since {path} was written: {fix}")


def check_split(cfg: Any, processes: int) -> None:
    """A config's global batch (``batch_size``) must split evenly across the processes."""
    batch = getattr(cfg, "batch_size", None)
    if batch is not None and batch % processes:
        raise BadInput(
            f"--batch-size {batch} does not split evenly across {processes} processes: give a "
            f"multiple of {processes} (each process trains on batch-size / {processes} of it)"
        )


@contextmanager
def _silent_unless(lead: bool) -> Iterator[None]:
    """Rank 0 alone prints: another process's standard output goes nowhere (its errors and
    tracebacks still reach stderr)."""
    if lead:
        yield
        return
    with open(os.devnull, "w") as nowhere, redirect_stdout(nowhere):
        yield


def resolve(args: argparse.Namespace, trainer: Trainer) -> tuple[Any, Path, dict | None]:
    """(config, run folder, saved checkpoint or None): from the preset and the flags, or, with
    ``--resume``, from the checkpoint and the flags it allows. Creates nothing."""
    changes = given(args, trainer.config)
    if not args.resume:
        cfg = replace(
            trainer.presets["smoke" if args.smoke else args.preset or trainer.default_preset],
            **changes,
        )
        config.validate(cfg)
        out = args.out or Path("runs", trainer.name, time.strftime("%Y%m%d-%H%M%S"))
        if (out / loop.CHECKPOINT).exists():  # a folder without one holds no run to keep
            raise BadInput(
                f"{out} already holds a run: add --resume to continue it, or choose another --out"
            )
        return cfg, out, None

    if args.out is None:
        raise BadInput("--resume needs --out DIR, the folder of the run to continue")
    if args.preset or args.smoke:
        raise BadInput("--resume continues the saved config: drop --preset / --smoke")
    path = args.out / loop.CHECKPOINT
    if not path.is_file():
        started = (args.out / loop.CONFIG).exists()
        raise BadInput(
            f"--resume: {args.out} holds no {loop.CHECKPOINT} to continue"
            + (
                " (its run stopped before its first checkpoint): run the same command without "
                "--resume to start it again"
                if started
                else ""
            )
        )
    saved = load_run(path, trainer)
    if fixed := sorted(changes.keys() - config.resumable(trainer.config)):
        allowed = ", ".join(sorted(map(config.flag, config.resumable(trainer.config))))
        raise BadInput(
            f"--resume continues the saved run; it cannot change {', '.join(map(config.flag, fixed))} "
            f"(only {allowed})"
        )
    cfg = replace(saved_config(saved, trainer.config, path), **changes)
    config.validate(cfg)
    return cfg, args.out, saved


def saved_config(state: dict, cls: type, path: Path) -> Any:
    """The config a checkpoint was trained with, as ``cls``; ``BadInput`` when this version of
    the task cannot read it (a field renamed or removed since)."""
    try:
        cfg = cls(**state["meta"]["config"])
    except (KeyError, TypeError) as error:
        raise BadInput(f"{path} holds a config that this version cannot read ({error})") from None
    try:
        config.validate(cfg)
    except BadInput as error:
        raise files.damaged(path, f"its config says {error}", checkpoint.RETRAIN) from None
    return cfg


def load_trained(path: str | Path, trainer: Trainer) -> tuple[dict, Any]:
    """(checkpoint, its config) of a run of ``trainer``'s task, for commands that use a
    trained model (sample, forecast); ``BadInput`` for a damaged or foreign file."""
    state = load_run(Path(path), trainer)
    return state, saved_config(state, trainer.config, Path(path))


def load_run(path: Path, trainer: Trainer) -> dict:
    """``checkpoint.load_run`` for ``trainer``'s task, its own meta entries checked too."""
    state = checkpoint.load_run(path, trainer.name)
    for key, check in trainer.meta_checks.items():
        if not check(state["meta"].get(key)):
            raise files.damaged(path, f"its {key} is not what the task saves", checkpoint.RETRAIN)
    return state


# ---------------------------------------------------------------------------------------------
# a task's command line, and running it


@dataclass
class Command:
    """A command beside ``train`` (``sample``, ``forecast``): its flags come from ``config``."""

    name: str  # the subcommand
    help: str  # one line for --help
    config: type  # a dataclass of its options, one comment per field (tasks/config.py)
    run: Callable[[Any], int]  # called with the validated options; returns the exit status


def main(
    argv: list[str] | None, prog: str, description: str, trainer: Trainer, *commands: Command
) -> int:
    """A task's whole command line: ``train`` and ``commands``; returns the exit status."""
    parser = Parser(prog=prog, description=description)
    add_commands(parser, trainer, *commands)
    return run(parser, argv)


def main_of_many(
    argv: list[str] | None, prog: str, description: str, trainers: dict[str, Trainer]
) -> int:
    """One command line for a task of several demos, each with its own ``train``:
    ``prog NAME train ...`` for each ``NAME`` of ``trainers``; returns the exit status."""
    parser = Parser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="demo", required=True)
    for name, trainer in trainers.items():
        add_commands(sub.add_parser(name, help=trainer.about, description=trainer.about), trainer)
    return run(parser, argv)


def add_commands(parser: argparse.ArgumentParser, trainer: Trainer, *commands: Command) -> None:
    """``train`` and ``commands`` as the subcommands of ``parser``."""
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_command(sub, trainer, f"train a model ({trainer.about}); writes a run folder")
    for command in commands:
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        add_config_flags(p, command.config)
        p.set_defaults(run=lambda args, c=command: c.run(_options(args, c.config)), prog=p.prog)


def _options(args: argparse.Namespace, cls: type) -> Any:
    opts = cls(**given(args, cls))
    config.validate(opts)
    return opts


def run(parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv``, run the chosen command (``args.run``), and turn its failures into one
    line each: ``BadInput`` exits 2 like a parse error; ``RunFailed`` returns 1; an interrupted
    run returns 130. Returns the exit status."""
    args = parser.parse_args(argv)
    prog = args.prog  # the command's own, e.g. "python -m tasks.patterns seq2seq train"
    say = launched_lead()  # under torchrun, rank 0 alone says what happened
    try:
        with _terminate_as_interrupt():
            return args.run(args)
    except BadInput as error:
        parser.exit(2, f"{prog}: error: {error}\n" if say else None)
    except RunFailed as error:
        if say:
            print(f"{prog}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        if say and isinstance(stop, loop.Stopped):
            print(f"{stop}: continue it with --out {stop.out} --resume", file=sys.stderr)
        elif say and isinstance(stop, Interrupted):  # a command that says what it kept
            print(f"{prog}: {stop}", file=sys.stderr)
        elif (
            say and getattr(args, "command", None) == "train"
        ):  # a second Ctrl-C, nothing saved since
            print(f"{prog}: stopped at once; the last checkpoint saved stands", file=sys.stderr)
        elif say:
            print(f"{prog}: stopped", file=sys.stderr)
        return 130


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """A `kill` (SIGTERM) ends a command as Ctrl-C does, with its one line, not silently."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a command; the message says what it kept (``run`` prints it)."""
