"""HTML for the views, from snapshots only. Pure functions: easy to test without a kernel."""
import html
from typing import Any, Dict, List

_STYLE = (
    "<style>"
    ".jsyft{font-family:var(--jp-code-font-family,monospace);font-size:12px;line-height:1.4}"
    ".jsyft table{border-collapse:collapse;margin:2px 0}"
    ".jsyft th,.jsyft td{border:1px solid var(--jp-border-color2,#ddd);padding:1px 6px;text-align:left}"
    ".jsyft th{background:var(--jp-layout-color2,#f3f3f3)}"
    ".jsyft .muted{color:var(--jp-ui-font-color2,#777)}"
    ".jsyft .live{color:#1a7f37}.jsyft .fetched{color:#9a6700}.jsyft .deleted{color:#cf222e}"
    "</style>"
)
_COLUMNS = ("id", "dtype", "shape", "requires_grad", "grad", "value", "tags")


def _e(value: Any) -> str:
    return html.escape(str(value))


def _shape(shape: List[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def worker_html(snap: Dict[str, Any]) -> str:
    name = _e(snap["worker_id"])
    if snap["gone"]:
        return f'{_STYLE}<div class="jsyft"><b>{name}</b> <span class="deleted">worker is gone</span></div>'
    count = snap["count"]
    head = f'<b>{name}</b> <span class="muted">· {count} object{"" if count == 1 else "s"}</span>'
    if not count:
        return f'{_STYLE}<div class="jsyft">{head} <span class="muted">(empty)</span></div>'
    rows = "".join(
        "<tr>" + "".join(f"<td>{cell}</td>" for cell in (
            _e(r["id"]), _e(r["dtype"]), _shape(r["shape"]), "✓" if r["requires_grad"] else "",
            "✓" if r["grad"] else "", _e(r["preview"]), _e(", ".join(r["tags"])))) + "</tr>"
        for r in snap["rows"]
    )
    more = count - len(snap["rows"])
    tail = f'<div class="muted">… and {more} more</div>' if more > 0 else ""
    header = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    return f'{_STYLE}<div class="jsyft">{head}<table><tr>{header}</tr>{rows}</table>{tail}</div>'


def pointer_text(p: Dict[str, Any]) -> str:
    return f'{p["owner"]}:{p["id"]} → {p["location"]}:{p["id_at_location"]}'


def pointer_html(p: Dict[str, Any]) -> str:
    state = p["state"]
    return (f'{_STYLE}<div class="jsyft"><b>PointerTensor</b> {_e(pointer_text(p))} '
            f'<span class="muted">· shape {_shape(p["shape"])} · {_e(p["dtype"])} ·</span> '
            f'<span class="{_e(state)}">{_e(state)}</span></div>')


def dashboard_html(workers: List[Dict[str, Any]], pointers: List[Dict[str, Any]]) -> str:
    """Workers side by side; below, an SVG with each local pointer's arrow to its object."""
    cells = "".join(f'<td style="vertical-align:top;border:none">{worker_html(w)}</td>' for w in workers)
    grid = f'<table style="border:none"><tr>{cells}</tr></table>' if workers else '<span class="muted">no workers yet</span>'
    return f'{_STYLE}<div class="jsyft">{grid}{arrows_svg(pointers)}</div>'


def arrows_svg(pointers: List[Dict[str, Any]], row: int = 20, width: int = 560) -> str:
    if not pointers:
        return '<div class="muted">no live pointers</div>'
    targets: Dict[str, int] = {}
    for p in pointers:
        targets.setdefault(f'{p["location"]}:{p["id_at_location"]}', len(targets))
    height = row * max(len(pointers), len(targets)) + 8
    parts = [f'<svg width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg" '
             'font-family="monospace" font-size="11">'
             '<defs><marker id="jsyft-arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" '
             'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="currentColor"/></marker></defs>']
    for i, p in enumerate(pointers):
        y1 = row * i + 14
        y2 = row * targets[f'{p["location"]}:{p["id_at_location"]}'] + 14
        parts.append(f'<text x="0" y="{y1}" fill="currentColor">{_e(p["owner"])}:{_e(p["id"])}</text>')
        parts.append(f'<line x1="190" y1="{y1 - 4}" x2="338" y2="{y2 - 4}" stroke="currentColor" '
                     'marker-end="url(#jsyft-arrow)"/>')
    for target, j in targets.items():
        parts.append(f'<text x="345" y="{row * j + 14}" fill="currentColor">{_e(target)}</text>')
    parts.append("</svg>")
    return "".join(parts)
