"""Measuring helpers: worker processes, interleaved rounds, medians, figures."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from child import Child

HERE = Path(__file__).resolve().parent


@dataclass
class Figure:
    """One row of the results: ours against a baseline, as a ratio, with its goal."""

    key: str
    title: str
    ours: float
    baseline: float | None
    unit: str
    goal: str = ""
    met: bool | None = None
    note: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    paired: float | None = None
    """The median of the per-round ratios, when ours and the baseline ran in the same rounds."""

    @property
    def ratio(self) -> float | None:
        """The paired ratio if there is one, else ``ours / baseline`` (None without one)."""
        if self.paired is not None:
            return self.paired
        if self.baseline is None or self.baseline == 0:
            return None
        return self.ours / self.baseline

    def as_json(self) -> dict[str, Any]:
        """The figure as written to results.json."""
        data = asdict(self)
        data["ratio"] = None if self.ratio is None else round(self.ratio, 4)
        return data


class Worker(Child):
    """A ``worker.py`` process under a given interpreter; ``time`` asks it for one batch."""

    def __init__(self, python: str = sys.executable) -> None:
        super().__init__([python, str(HERE / "worker.py")], "worker")

    def time(self, contender: str, url: str, calls: int) -> tuple[float, float, int]:
        """Wall and CPU seconds for ``calls`` calls of ``contender``, and the items returned."""
        answer = self.request({"contender": contender, "url": url, "calls": calls})
        return float(answer["seconds"]), float(answer["cpu"]), int(answer["items"])


def interleave(
    runners: dict[str, Callable[[], float]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run each runner once per round, rotating the order; keep rounds after ``warmup``.

    Rotating who goes first spreads any drift of the machine (other work, heat) evenly
    over the contenders; the median of the rounds then ignores the outliers.
    """
    names = list(runners)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(warmup + rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            value = runners[name]()
            if round_number >= warmup:
                samples[name].append(value)
    return samples


def paired_ratio(samples: dict[str, list[float]], ours: str, baseline: str) -> float:
    """The median over rounds of ``ours / baseline`` within each round.

    Both ran minutes apart at most, under the same load; the per-round ratio cancels what a
    busy machine does to both, which a ratio of the two medians would not.
    """
    return median([a / b for a, b in zip(samples[ours], samples[baseline], strict=True)])


def median(values: Sequence[float]) -> float:
    """The median (of a non-empty sequence)."""
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """Relative interquartile range: how noisy the rounds were (0.05 = 5 %)."""
    if len(values) < 4:
        return 0.0
    quartiles = statistics.quantiles(values, n=4)
    return (quartiles[2] - quartiles[0]) / statistics.median(values)


def wall_time(command: Sequence[str], env: dict[str, str] | None = None) -> float:
    """Seconds a command takes from start to exit (it must succeed)."""
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, timeout=60)
    return time.perf_counter() - started
