"""What the benchmarks share: printed tables and small measuring helpers."""

from __future__ import annotations

import resource
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Table:
    """One printed table: what it measures, how to reproduce it, rows and notes."""

    title: str
    command: str
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def render(table: Table) -> str:
    """Plain aligned text: first column left, the others right."""
    widths = [len(h) for h in table.headers]
    for row in table.rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    out = [f"== {table.title}", f"$ {table.command}", line(table.headers), rule]
    out += [line(r) for r in table.rows]
    out += [f"  * {n}" for n in table.notes]
    return "\n".join(out) + "\n"


def show(table: Table) -> None:
    """Print a table at once (flushed: sections can take minutes)."""
    print(render(table), flush=True)


def pct(value: float | None) -> str:
    """A share as a percentage, or a dash when there was nothing to count."""
    return "—" if value is None else f"{value * 100:.1f} %"


def ms(value: float | None) -> str:
    """Milliseconds with one decimal, or a dash."""
    return "—" if value is None else f"{value:.1f}"


def mb(n_bytes: float) -> str:
    """Bytes as MB (MiB) with one decimal."""
    return f"{n_bytes / 2**20:.1f}"


def verdict(value: float, budget: float) -> str:
    """'ok' within the budget, 'OVER' past it."""
    return "ok" if value <= budget else "OVER"


# -- measuring -----------------------------------------------------------------------------------


def rss_mb() -> float:
    """The process's resident memory now (MB)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentile(values: Sequence[float], q: float) -> float | None:
    """numpy's percentile (as ``kiosk eval``), None for no values."""
    return float(np.percentile(np.array(values), q)) if values else None


def share(flags: Sequence[bool]) -> float | None:
    """The share of true flags, None for no flags."""
    return sum(flags) / len(flags) if flags else None
