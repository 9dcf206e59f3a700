"""The PNG chart docs/benchmarks.md shows: req/s per contender, store and workload.

Called by bench/run.py after a run with the cells' medians; needs matplotlib (the ``bench``
extra). Without it the run still writes its table and says the chart was not redrawn.
``python bench/chart.py docs/benchmarks.md`` redraws it from the table already in the page.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

#: Bar colours: sessionward in one hue, its peers in greys, so the comparison reads at a glance.
_OURS = "#1f6fb4"
_PEER = "#9a9a9a"
_BARE = "#4d4d4d"


def draw(rows: Sequence[tuple[str, str, int, float]], path: Path, title: str) -> bool:
    """Draw ``rows`` (app, workload label, connections, req/s) as grouped bars into ``path``.

    One panel per workload at the highest connection count; returns False when matplotlib is
    not installed (nothing is written then).
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    conns = max(c for _, _, c, _ in rows)
    workloads = list(dict.fromkeys(w for _, w, c, _ in rows if c == conns))
    apps = list(dict.fromkeys(a for a, _, c, _ in rows if c == conns))
    fig, axes = plt.subplots(1, len(workloads), figsize=(6 * len(workloads), 4.2), sharey=True)
    if len(workloads) == 1:
        axes = [axes]
    for ax, workload in zip(axes, workloads, strict=True):
        rps = {a: r for a, w, c, r in rows if w == workload and c == conns}
        names = [a for a in apps if a in rps]
        colours = [
            _OURS if a.startswith("sessionward") else _BARE if a.startswith("bare") else _PEER
            for a in names
        ]
        bars = ax.barh(names, [rps[a] for a in names], color=colours)
        ax.bar_label(bars, labels=[f"{rps[a]:,.0f}" for a in names], padding=3, fontsize=8)
        ax.set_title(f"{workload}, {conns} connections", fontsize=10)
        ax.set_xlabel("requests per second (median round)")
        ax.margins(x=0.18)
        ax.tick_params(axis="y", labelsize=8)
    axes[0].invert_yaxis()  # once: the panels share the axis, the first app on top
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def rows_of(page: str) -> list[tuple[str, str, int, float]]:
    """The (app, workload, connections, req/s) rows of bench/run.py's table in ``page``."""
    block = page.split("<!-- bench:start -->", 1)[1].split("<!-- bench:end -->", 1)[0]
    rows = []
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[2].isdigit():
            rows.append((cells[0], cells[1], int(cells[2]), float(cells[3].replace(",", ""))))
    return rows


if __name__ == "__main__":
    page = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/benchmarks.md")
    stamp = page.read_text().split("_Run ", 1)[1].split(":", 1)[0][:10]
    title = f"bench/run.py, {stamp}: one uvicorn worker per app, wrk on 127.0.0.1"
    if not draw(rows_of(page.read_text()), page.with_suffix(".png"), title):
        raise SystemExit("matplotlib is needed: pip install -e '.[bench]'")
