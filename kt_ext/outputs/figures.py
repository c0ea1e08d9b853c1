"""Matplotlib for the report: the headless backend, chosen before pyplot loads, and atomic PNGs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - after selecting the headless backend

__all__ = ["plt", "save_figure"]


def save_figure(fig: Any, path: Path) -> None:
    """Lay out ``fig``, write it to ``path`` as a PNG atomically, and close it.

    The image is cropped or grown to what the figure draws (``bbox_inches``),
    so a title wider than the figure is not cut at its edges.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.tight_layout()
    fig.savefig(tmp, dpi=100, bbox_inches="tight")
    plt.close(fig)
    tmp.replace(path)
