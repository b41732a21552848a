"""HTML views that scale to thousands of workers: a pool's summary (workers, objects and bytes per
actor and node, dead actors, a histogram of the last round's worker times), a round's progress,
and one worker drilled into. Pure functions of the summaries (no widgets), so a cell shows them
with ``pool`` / ``round`` / ``pool.show("worker-7")`` and nbval sees only their text."""
from html import escape as _e
from typing import Any, Dict, Optional

_STYLE = "font-family:monospace;font-size:12px;border-collapse:collapse"


def _bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n}"


def histogram_html(hist: Optional[Dict[str, Any]], unit_ms: bool = True) -> str:
    if not hist or not hist.get("counts"):
        return "<div>no round yet</div>"
    top = max(hist["counts"]) or 1
    rows = []
    for i, count in enumerate(hist["counts"]):
        low, high = hist["edges"][i], hist["edges"][i + 1]
        width = int(200 * count / top)
        rows.append(f"<tr><td style='padding:0 6px'>{low * 1e3:.2f}-{high * 1e3:.2f} ms</td>"
                    f"<td><div style='background:#4a7fb5;height:10px;width:{width}px'></div></td>"
                    f"<td style='padding:0 6px'>{count:,}</td></tr>")
    return f"<table style='{_STYLE}'><caption style='text-align:left'>worker time in the last round</caption>{''.join(rows)}</table>"


def pool_html(summary: Dict[str, Any]) -> str:
    dead = summary.get("dead_actors") or {}
    head = (f"<b>RayWorkerPool</b>: {summary['workers']:,} workers on {summary['actors']} actors, "
            f"{summary['nodes']} node(s); {summary['objects']:,} objects, {_bytes(summary['bytes'])}, "
            f"{summary['messages']:,} requests served")
    if dead:
        head += f"; <span style='color:#b00'>dead actors: {_e(', '.join(map(str, sorted(dead))))}</span>"
    rows = "".join(
        f"<tr><td>{h['host']}</td><td title='{_e(str(h['node_id']))}'>{_e(str(h['node_id'])[:8])}</td>"
        f"<td>{h['pid']}</td><td>{h['workers']:,}</td><td>{h['objects']:,}</td><td>{_bytes(h['bytes'])}</td>"
        f"<td>{h['messages']:,}</td></tr>" for h in summary["hosts"])
    for host in sorted(dead):
        rows += f"<tr style='color:#b00'><td>{host}</td><td colspan='6'>dead ({_e(str(dead[host]))})</td></tr>"
    table = (f"<table style='{_STYLE}'><tr><th>actor</th><th>node</th><th>pid</th><th>workers</th>"
             f"<th>objects</th><th>bytes</th><th>requests</th></tr>{rows}</table>")
    return f"<div>{head}{table}{histogram_html(summary.get('round_times'))}</div>"


def round_html(progress: Dict[str, Any]) -> str:
    done, total = progress["workers_done"], progress["workers"]
    width = int(300 * done / total) if total else 0
    failed = progress["failed_workers"]
    state = "done" if progress["done"] else "running"
    extra = (f", <span style='color:#b00'>{failed:,} failed (dead actors {progress['dead_actors']})</span>"
             if failed else "")
    return (f"<div style='font-family:monospace;font-size:12px'>FedAvg round {state}: {done:,}/{total:,} "
            f"workers{extra}, {progress['elapsed_s']:.2f} s, straggler {progress['straggler_s']:.2f} s"
            f"<div style='width:300px;background:#ddd'><div style='background:#4a7fb5;height:8px;"
            f"width:{width}px'></div></div></div>")


def worker_html(info: Dict[str, Any], objects: Dict[Any, Any]) -> str:
    rows = "".join(
        f"<tr><td>{_e(str(k))}</td><td>{_e(str(getattr(v, 'dtype', type(v).__name__)).replace('torch.', ''))}</td>"
        f"<td>{_e(str(list(getattr(v, 'shape', []))))}</td></tr>" for k, v in list(objects.items())[:50])
    more = f"<div>and {len(objects) - 50:,} more</div>" if len(objects) > 50 else ""
    return (f"<div style='font-family:monospace;font-size:12px'><b>{_e(str(info['id']))}</b> on actor "
            f"{info['host']} (node {_e(str(info['node_id'])[:8])}): {info['objects']} objects, "
            f"{_bytes(info['bytes'])}, {info['messages']} requests, {_bytes(info['bytes_in'])} in, "
            f"{_bytes(info['bytes_out'])} out<table style='{_STYLE}'><tr><th>id</th><th>dtype</th>"
            f"<th>shape</th></tr>{rows}</table>{more}</div>")


class HTML:
    """What ``pool.show(...)`` returns: shown as HTML in a notebook, as text elsewhere."""

    def __init__(self, html: str, text: str) -> None:
        self.html, self.text = html, text

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return self.text
