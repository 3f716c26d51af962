"""Forecast a time series with a recurrent network, beside honest yardsticks.

    python -m tasks.series train --impl scratch --cell lstm          # CO2, the default preset
    python -m tasks.series train --preset macro --head recursive     # multivariate, fed back
    python -m tasks.series train --csv FILE --columns a b --target a --window 30 --horizon 7
    python -m tasks.series train --smoke                             # seconds; what CI runs
    python -m tasks.series forecast --checkpoint runs/series/<run>/checkpoint.pt

One job per file:

- ``data.py``: the series (CO2, US macro, sines, Lorenz, a CSV), checked at the door;
- ``windows.py``: sliding windows, the chronological split, scaling;
- ``baselines.py``: the yardsticks and the scores;
- ``config.py``: the config, the presets, and the problem a config sets up;
- ``model.py``: the network and the task that the shared loop trains;
- ``train.py``: what the loop trains, the report at the end, ``smoke_losses`` for compare;
- ``report.py``: the score table on the test split and the figures;
- ``cli.py``: the command line, on the shared scaffolding (tasks/cli.py).

Training runs in the shared loop (``tasks/loop.py``); the run folder gets its checkpoint,
metrics and loss curve, and from ``report.py`` results.md (network and yardsticks on the test
split) and the forecast figures. See docs/series.md.
"""

from tasks.series.cli import main
from tasks.series.config import PRESETS, SeriesConfig
from tasks.series.train import smoke_losses

__all__ = ["PRESETS", "SeriesConfig", "main", "smoke_losses"]
