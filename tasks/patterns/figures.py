"""What every figure of the pattern demos shares: made without pyplot's global state, saved
atomically as PNG (tasks/files.py), and a markdown table for results.md."""

from pathlib import Path

from matplotlib.figure import Figure

from tasks import files


def save(fig: Figure, path: Path) -> None:
    """Lay ``fig`` out and write it to ``path``, atomically."""
    fig.tight_layout()
    files.write_figure(fig, path)


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A markdown table; floats as percentages with one decimal, None as a dash."""

    def cell(value) -> str:
        if value is None:
            return "–"
        return f"{100 * value:.1f} %" if isinstance(value, float) else str(value)

    lines = [header, ["---"] * len(header), *([cell(v) for v in row] for row in rows)]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines) + "\n"
