"""python -m learn list | blank EXERCISE | check EXERCISE FILE.py | solution EXERCISE

check exits 0 with one line when FILE's function is right, 1 with the equation label and the
quantity when it is wrong, and 2 with one line when the command itself cannot run (an unknown
exercise, a missing file, a file that does not define the function)."""

import argparse
import sys
from pathlib import Path

from learn.check import report
from learn.exercises import EXERCISES


class UsageError(Exception):
    """A one-line reason the command cannot run: exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse, with its errors in one line (exit status 2) instead of the usage and the error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (--help lists the commands)\n")


def load(path: str, name: str):
    """The function ``name`` that the Python file ``path`` defines."""
    file = Path(path)
    if not file.is_file():
        raise UsageError(f"{path}: no such file")
    try:
        source = file.read_text(encoding="utf-8")
        code = compile(source, str(file), "exec")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not a UTF-8 text file") from None
    except SyntaxError as error:
        raise UsageError(f"{path}, line {error.lineno}: syntax error: {error.msg}") from None
    namespace = {"__name__": "learner", "__file__": str(file)}
    try:
        exec(code, namespace)
    except Exception as error:  # the learner's file: report it, no traceback
        raise UsageError(f"{path} could not run: {type(error).__name__}: {error}") from None
    function = namespace.get(name)
    if not callable(function):
        raise UsageError(
            f"{path} defines no function {name}: define it (python -m learn blank {name} prints the blank)"
        )
    return function


def exercise(name: str):
    if name not in EXERCISES:
        raise UsageError(f"no exercise {name!r}; python -m learn list shows them")
    return EXERCISES[name]


def main(argv: list[str] | None = None) -> int:
    parser = Parser(
        prog="python -m learn",
        description="Exercises that check themselves and name the equation that is wrong.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="the exercises, one a line: name, chapter, labels, what")
    for command, what in [
        ("blank", "print the exercise's blank: its signature and docstring, to fill in"),
        ("solution", "print our solution, as a file that check accepts"),
    ]:
        commands.add_parser(command, help=what).add_argument("exercise")
    checker = commands.add_parser("check", help="check FILE's function against ours")
    checker.add_argument("exercise")
    checker.add_argument("file", help="a Python file that defines the function EXERCISE")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            for ex in EXERCISES.values():
                labels = ",".join(ex.labels)
                print(f"{ex.name:28} {ex.chapter:10} {labels:14} {ex.summary}")
            return 0
        ex = exercise(args.exercise)
        if args.command == "blank":
            print(ex.blank_source(), end="")
            return 0
        if args.command == "solution":
            print(ex.solution_source(), end="")
            return 0
        result = report(ex, load(args.file, ex.name), source=str(Path(args.file)))
    except UsageError as error:
        print(f"python -m learn: {error}", file=sys.stderr)
        return 2
    print(result.message)
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
