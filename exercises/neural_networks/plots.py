"""Given code (no question): the training loss of several runs in one figure, e.g. one curve
per optimizer on the tagging task (``dojo train tagger --compare-optimizers --plot FILE``).

Per-step minibatch losses are noisy; each curve is smoothed with a moving average over
``smooth`` steps (the first points average what there is so far), which keeps the steps on
the x axis where they were.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def moving_average(values: Sequence[float], window: int) -> np.ndarray:
    """The mean of the last ``window`` values at every step (fewer at the start), (T,)."""
    v = np.asarray(values, dtype=np.float64)  # (T,)
    if window <= 1 or v.size == 0:
        return v
    total = np.cumsum(v)  # (T,)
    shifted = np.concatenate([np.zeros(window), total[:-window]])[:v.size]  # (T,)
    count = np.minimum(np.arange(1, v.size + 1), window)  # (T,)
    return (total - shifted) / count


def plot_losses(curves: Mapping[str, Sequence[float]], path: str | Path | None = None, *,
                smooth: int = 50, title: str = "training loss per optimizer",
                ylabel: str = "cross-entropy (moving average)"):
    """One labelled line per entry of ``curves`` (label -> loss per step) against the step
    number, with a legend; written to ``path`` (PNG) when given. Returns the matplotlib
    ``Figure`` (no pyplot: nothing global is left behind)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for label, losses in curves.items():
        y = moving_average(losses, smooth)  # (T,)
        ax.plot(np.arange(1, y.size + 1), y, label=label, linewidth=1.4)
    ax.set_xlabel("step (minibatch)")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(title="optimizer" if title.endswith("optimizer") else None)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path, format="png")
    return fig
