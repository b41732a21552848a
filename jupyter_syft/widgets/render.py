"""HTML for the views, from snapshots only. Pure functions: easy to test without a kernel."""
import html
from typing import Any, Dict, List, Tuple

_STYLE = (
    "<style>"
    ".jsyft{font-family:var(--jp-code-font-family,monospace);font-size:12px;line-height:1.4}"
    ".jsyft table{border-collapse:collapse;margin:2px 0}"
    ".jsyft th,.jsyft td{border:1px solid var(--jp-border-color2,#ddd);padding:1px 6px;text-align:left}"
    ".jsyft th{background:var(--jp-layout-color2,#f3f3f3)}"
    ".jsyft .muted{color:var(--jp-ui-font-color2,#777)}"
    ".jsyft .live{color:#1a7f37}.jsyft .fetched{color:#9a6700}.jsyft .deleted{color:#cf222e}"
    # the dashboard's diagram (SVG): theme colours, with fallbacks for pages without JupyterLab
    # width:0 + min-width:100%: as wide as the output area, however wide the diagram (a flex
    # parent would otherwise grow to the diagram and clip it); it shrinks to fit, then scrolls
    ".jsyft-dash{width:0;min-width:100%}"
    ".jsyft-board{overflow-x:auto;padding:2px 0}"
    ".jsyft-board svg{display:block;max-width:100%;height:auto;"
    "font-family:var(--jp-code-font-family,monospace);font-size:11px}"
    ".jsyft-board text{fill:var(--jp-content-font-color1,#212121)}"
    ".jsyft-board .m{fill:var(--jp-content-font-color2,#616161);font-size:10px}"
    ".jsyft-board .b{font-weight:bold}.jsyft-board .h{font-size:12px;font-weight:bold}"
    ".jsyft-board .ok{fill:var(--jp-success-color1,#388e3c)}"
    ".jsyft-board .warn{fill:var(--jp-warn-color1,#f57c00)}"
    ".jsyft-board .err{fill:var(--jp-error-color1,#d32f2f)}"
    ".jsyft-board .box{fill:var(--jp-layout-color1,#fff);stroke:var(--jp-border-color1,#bdbdbd)}"
    ".jsyft-board .var .box{stroke:var(--jp-brand-color1,#1976d2)}"
    ".jsyft-board .done .box{stroke-dasharray:3 2}"
    ".jsyft-board .grp{fill:var(--jp-layout-color2,#eee);stroke:var(--jp-border-color1,#bdbdbd)}"
    ".jsyft-board .lane{fill:var(--jp-layout-color2,#f5f5f5);opacity:.5}"
    ".jsyft-board .arrow{fill:none;stroke:var(--jp-brand-color1,#1976d2);stroke-width:1.5}"
    ".jsyft-board .arrow.attr{stroke-dasharray:4 3}"
    ".jsyft-board .halo{fill:none;stroke:var(--jp-layout-color0,#fff);stroke-width:5}"
    ".jsyft-board .tip{fill:var(--jp-brand-color1,#1976d2)}"
    # plans and protocols: one colour for a plan's box, a protocol's route and its step numbers
    ".jsyft-board .plan .box{stroke:#8e24aa;stroke-width:1.5}"
    ".jsyft-board .arrow.route{stroke:#8e24aa;stroke-width:2}"
    ".jsyft-board .tip.route{fill:#8e24aa}"
    ".jsyft-board .step circle{fill:#8e24aa}"
    ".jsyft-board .step text{fill:#fff;font-size:9px;font-weight:bold}"
    ".jsyft tr.plan td:nth-child(2),.jsyft tr.protocol td:nth-child(2){color:#8e24aa}"
    ".jsyft-caption{color:var(--jp-ui-font-color2,#777);font-size:11px;margin-top:2px}"
    # network workers: a dashed column (another process); private data in amber
    ".jsyft-board .lane.net{stroke:var(--jp-border-color1,#9e9e9e);stroke-dasharray:5 3;opacity:1;"
    "fill:var(--jp-layout-color2,#f5f5f5);fill-opacity:.5}"
    ".jsyft-board .priv .box{stroke:#b26a00;stroke-width:1.5}"
    ".jsyft-board .priv text.pv{fill:#b26a00}"
    ".jsyft .net{color:var(--jp-ui-font-color2,#777)}"
    ".jsyft tr.private td:nth-child(6),.jsyft .priv{color:#b26a00}"
    ".jsyft .refused,.jsyft tr.refused td{color:var(--jp-error-color1,#cf222e)}"
    ".jsyft-audit svg{display:block;max-width:100%;height:auto;font-family:var(--jp-code-font-family,monospace);"
    "font-size:11px}"
    ".jsyft-audit svg text{fill:var(--jp-content-font-color1,#212121)}"
    ".jsyft-audit svg .m{fill:var(--jp-content-font-color2,#616161)}"
    ".jsyft-audit svg .err{fill:var(--jp-error-color1,#d32f2f)}"
    ".jsyft-audit svg .box{fill:var(--jp-layout-color1,#fff);stroke:var(--jp-border-color1,#bdbdbd)}"
    ".jsyft-audit svg .srv .box{stroke:var(--jp-brand-color1,#1976d2);stroke-width:1.5}"
    ".jsyft-audit svg .arrow{fill:none;stroke:var(--jp-brand-color1,#1976d2)}"
    ".jsyft-audit svg .arrow.refused{stroke:var(--jp-error-color1,#d32f2f);stroke-dasharray:4 3}"
    ".jsyft-audit svg .tip{fill:var(--jp-brand-color1,#1976d2)}"
    ".jsyft-audit svg .tip.refused{fill:var(--jp-error-color1,#d32f2f)}"
    # secret sharing: a shared value and its shares in teal, what a crypto provider dealt in orange
    ".jsyft .badge{display:inline-block;padding:0 4px;margin-right:4px;border-radius:3px;font-size:10px;"
    "white-space:nowrap}"
    ".jsyft .badge.share{background:#e0f2f1;color:#00695c}.jsyft .badge.dealt{background:#fff3e0;color:#e65100}"
    ".jsyft .hint{color:var(--jp-ui-font-color2,#777);font-style:italic;white-space:nowrap}"
    ".jsyft-board .secret .box{stroke:#00897b;stroke-width:1.5}"
    ".jsyft-board .share .box{stroke:#00897b}"
    ".jsyft-board .arrow.split{stroke:#00897b;stroke-dasharray:5 2}"
    ".jsyft-board .tip.split{fill:#00897b}"
    ".jsyft-board .dealer .box{stroke:#ef6c00;stroke-width:1.5}"
    ".jsyft-board .dealt .box{stroke:#ef6c00;stroke-dasharray:3 2}"
    ".jsyft-board .arrow.dealt{stroke:#ef6c00;stroke-dasharray:2 2}"
    ".jsyft-board .tip.dealt{fill:#ef6c00}"
    ".jsyft-board .fresh .box{animation:jsyft-dealt 1.5s ease-out}"
    "@keyframes jsyft-dealt{0%{fill:#ffb74d}100%{fill:var(--jp-layout-color1,#fff)}}"
    "</style>"
)
_COLUMNS = ("id", "dtype", "shape", "requires_grad", "grad", "value", "tags")


def _e(value: Any) -> str:
    return html.escape(str(value))


def _shape(shape: List[int]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def network_status(net: Dict[str, Any]) -> str:
    """Why a network worker's objects are not listed, or "" when they are."""
    status = net.get("status")
    if status == "unreachable":
        return f'unreachable: {net.get("error") or "its server did not answer"}'
    if status == "error":
        return f'its server refused the summary: {net.get("error")}'
    if status == "unknown":
        return "not asked yet (after the next cell)"
    return ""


def worker_html(snap: Dict[str, Any]) -> str:
    name = _e(snap["worker_id"])
    if snap["gone"]:
        return f'{_STYLE}<div class="jsyft"><b>{name}</b> <span class="deleted">worker is gone</span></div>'
    count = snap["count"]
    head = f'<b>{name}</b> <span class="muted">· {count} object{"" if count == 1 else "s"}</span>'
    net = snap.get("network")
    if net:
        tip = ("a network worker: its objects live in its server process; they are listed from the "
               "summary it sent after the last cell")
        where = f' <span class="net" title="{_e(tip)}">· network worker at {_e(net["address"])}</span>'
        trouble = network_status(net)
        if trouble:  # how many objects it has is not known
            return f'{_STYLE}<div class="jsyft"><b>{name}</b>{where} <span class="deleted">{_e(trouble)}</span></div>'
        head += where
    if not count:
        return f'{_STYLE}<div class="jsyft">{head} <span class="muted">(empty)</span></div>'
    rows = "".join(_worker_row(r) for r in snap["rows"])
    more = count - len(snap["rows"])
    tail = f'<div class="muted">… and {more} more</div>' if more > 0 else ""
    tail += shares_caption(snap["worker_id"], snap["rows"])
    header = "".join(f"<th>{c}</th>" for c in _COLUMNS)
    return f'{_STYLE}<div class="jsyft">{head}<table><tr>{header}</tr>{rows}</table>{tail}</div>'


def _worker_row(r: Dict[str, Any]) -> str:
    kind = r.get("kind")
    tags = _e(", ".join(r["tags"]))
    if kind in ("plan", "protocol"):  # what it is across the tensor columns; the listing as a tip
        what = (f'<b>plan</b> {_e(plan_signature(r))}' if kind == "plan"
                else f'<b>protocol</b> · {_e(_plural(r["plans"], "plan"))}')
        summary = plan_summary(r) if kind == "plan" else protocol_summary(r)
        tip = r["code"] if kind == "plan" else protocol_tip(r)
        return (f'<tr class="{kind}" title="{_e(tip)}"><td>{_e(r["id"])}</td><td colspan="4">{what}</td>'
                f'<td>{_e(summary)}</td><td>{tags}</td></tr>')
    row = '<tr class="private" title="private: it computes there, it never leaves">' if r.get("private") else "<tr>"
    value = _e(r["preview"])
    if r.get("share") or r.get("dealt"):  # what it is, then its numbers: random on their own
        badge, tip = share_badge(r)
        kind = "share" if r.get("share") else "dealt"
        row = f'<tr class="{kind}" title="{_e(tip)}">'
        value = f'<span class="badge {kind}">{_e(badge)}</span>{value} <span class="hint">· meaningless alone</span>'
    return row + "".join(f"<td>{cell}</td>" for cell in (
        _e(r["id"]), _e(r["dtype"]), _shape(r["shape"]), "✓" if r["requires_grad"] else "",
        "✓" if r["grad"] else "", value, tags)) + "</tr>"


# --- secret sharing: the same words in the worker view, the dashboard and the side panel ----------
def secret_name(secret_id: Any) -> str:
    """``secret #8810``: the last four digits of a shared value's id (the full id in tooltips)."""
    return f"secret #{str(secret_id)[-4:]}"


def short_encoding(encoding: str) -> str:
    return "fixed precision" if encoding.startswith("fixed precision") else encoding


PART_NAMES = {"r": "mask r", "bits": "mask bits"}


def share_badge(r: Dict[str, Any]) -> Tuple[str, str]:
    """(badge, tooltip) of a row that is a share, or that a crypto provider delivered."""
    share = r.get("share")
    if share:
        badge = f'share {share["k"]}/{share["n"]} of {secret_name(share["secret"])}'
        tip = (f'share {share["k"]} of {share["n"]} of secret {share["secret"]} ({share["encoding"]}): '
               f'random numbers on their own. Only all {share["n"]} shares added together (modulo 2**62) '
               f'give the value; no single worker holds anything meaningful.')
        return badge, tip
    d = r["dealt"]
    part = PART_NAMES.get(d["part"], d["part"])
    return (f'{part} from {d["provider"]}',
            f'{part} for one {d["kind"]}, dealt by the crypto provider {d["provider"]}: random numbers, '
            f'shared like a secret, used up by that {d["kind"]}.')


def shares_caption(worker_id: str, rows: List[Dict[str, Any]]) -> str:
    """Under a worker's table: what its shares and dealt masks are (only if it holds some)."""
    shares = [r for r in rows if r.get("share")]
    dealt = {r["dealt"]["provider"] for r in rows if r.get("dealt")}
    if not shares and not dealt:
        return ""
    text = []
    if shares:
        secrets = len({r["share"]["secret"] for r in shares})
        text.append(f'{worker_id} holds {_plural(len(shares), "share")} of {_plural(secrets, "secret")}: '
                    f'each looks like random numbers, and is. Only all the shares of a secret, from all '
                    f'its workers, added together give its value.')
    if dealt:
        text.append(f'Masks from {", ".join(sorted(dealt))} (the crypto provider) are random too, '
                    f'for one comparison each.')
    return f'<div class="jsyft-caption">{_e(" ".join(text))}</div>'


def _plural(n: int, word: str) -> str:
    return f'{n} {word}{"" if n == 1 else "s"}'


def plan_signature(r: Dict[str, Any]) -> str:
    """``inc1((1,) float32)``: the plan's name and the arguments it was built for."""
    return f'{r["name"]}({", ".join(f"{_shape(shape)} {dtype}" for shape, dtype in r["args"])})'


def plan_summary(r: Dict[str, Any]) -> str:
    """``3 ops · built · 4 state tensors``"""
    state = _plural(r["state"], "state tensor") if r["state"] else "no state tensors"
    return f'{_plural(r["ops"], "op")} · {"built" if r["built"] else "not built"} · {state}'


def protocol_summary(r: Dict[str, Any]) -> str:
    """``deployed: alice → bob → charlie`` or ``not deployed: worker1 → worker2``"""
    route = " → ".join(s["worker"] for s in r["steps"])
    return f'{"deployed" if r["deployed"] else "not deployed"}: {route}'


def protocol_tip(r: Dict[str, Any], plans: Dict[Any, Dict[str, Any]] = None) -> str:
    """Each step of a protocol a worker keeps: where it runs and which plan (when known)."""
    lines = [f'protocol · {_plural(r["plans"], "plan")} · {protocol_summary(r)}']
    for i, step in enumerate(r["steps"], 1):
        if step["at"]:
            plan = (plans or {}).get(tuple(step["at"]))
            name = f'plan {plan["name"]} ' if plan else "plan "
            lines.append(f'{i}. {step["worker"]}: {name}{step["at"][0]}:{step["at"][1]}')
        else:
            lines.append(f'{i}. {step["worker"]}: plan {step["plan"]}')
    return "\n".join(lines)


def pointer_text(p: Dict[str, Any]) -> str:
    return f'{p["owner"]}:{p["id"]} → {p["location"]}:{p["id_at_location"]}'


def pointer_html(p: Dict[str, Any]) -> str:
    state = p["state"]
    return (f'{_STYLE}<div class="jsyft"><b>PointerTensor</b> {_e(pointer_text(p))} '
            f'<span class="muted">· shape {_shape(p["shape"])} · {_e(p["dtype"])} ·</span> '
            f'<span class="{_e(state)}">{_e(state)}</span></div>')


def human_bytes(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    for unit, size in (("kB", 1e3), ("MB", 1e6)):
        if n < size * 1000:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e9:.1f} GB"


def traffic_lines(t: Dict[str, int]) -> List[Tuple[str, str]]:
    """The per-worker traffic line(s): (text, class) with class "", "ok" or "warn"."""
    if not t:
        return []
    got = t.get("bytes_got", 0)
    messages = t.get("messages", 0)
    return [(f'{messages} msg{"" if messages == 1 else "s"} · in {human_bytes(t.get("bytes_in", 0))}'
             f' · out {human_bytes(t.get("bytes_out", 0))}', ""),
            (f"left via .get(): {human_bytes(got)}" if got else "left via .get(): nothing", "warn" if got else "ok")]


# --- the dashboard: a diagram ---------------------------------------------------------------
# Columns: the notebook's variables, then one per worker (a worker that keeps pointers to another
# comes before it, so that chains read left to right). Each object is a box; each pointer an
# arrow from its box to the box of the object it names. Sizes are in px for an 11px monospace font.
CH, CH_SMALL = 6.7, 6.1  # width of a character at 11px and at 10px
MARGIN, COL_GAP = 6, 44
NODE_H, NODE_GAP, GROUP_HEAD, GROUP_PAD = 32, 10, 19, 5
MIN_COL, MAX_COL = 100, 180
MIN_SCALE = 0.8  # a wide diagram shrinks to fit its output area down to this, then scrolls


def _fit(text: str, width: float, ch: float = CH) -> str:
    chars = max(3, int((width - 12) // ch))
    return text if len(text) <= chars else text[:chars - 1] + "…"


def _order_workers(workers: List[Dict[str, Any]],
                   variables: List[Dict[str, Any]] = ()) -> List[Dict[str, Any]]:
    """Creation order, except that a worker keeping pointers to another comes before it, and a
    protocol's workers come in the order it runs on them (its route reads left to right)."""
    ids = [w["worker_id"] for w in workers]
    after = {wid: set() for wid in ids}  # wid -> workers it points to
    edges = []
    for w in workers:
        for r in w["rows"]:
            target = r.get("pointer")
            if target:
                edges.append((w["worker_id"], target[0]))
            elif r.get("kind") == "protocol":
                route = [w["worker_id"]] + [s["at"][0] for s in r["steps"] if s["at"]]
                edges += zip(route, route[1:])
    for v in variables:
        if v["kind"] == "protocol":
            route = [s["path"][1][0] for s in v["steps"] if s["path"]]
            edges += zip(route, route[1:])
    for a, b in edges:
        if a in after and b in after and a != b:
            after[a].add(b)
    incoming = {wid: 0 for wid in ids}
    for wid in ids:
        for t in after[wid]:
            incoming[t] += 1
    order: List[str] = []
    ready = [wid for wid in ids if incoming[wid] == 0]
    while ready:
        wid = ready.pop(0)
        order.append(wid)
        for t in sorted(after[wid], key=ids.index):
            incoming[t] -= 1
            if incoming[t] == 0:
                ready.append(t)
        ready.sort(key=ids.index)
    order += [wid for wid in ids if wid not in order]  # a cycle: creation order
    by_id = {w["worker_id"]: w for w in workers}
    return [by_id[wid] for wid in order]


def _tensor_tip(worker_id: str, r: Dict[str, Any]) -> str:
    grad = " · requires_grad" if r["requires_grad"] else ""
    grad += " · has .grad" if r["grad"] else ""
    return f'{worker_id}:{r["id"]} · {_shape(r["shape"])} {r["dtype"]}{grad}\n{r["preview"]}'


def _node(key: Any, line1: Tuple[str, str], line2: Tuple[str, str], tip: str, cls: str = "",
          links: List[Any] = (), attr: bool = False, note: str = "", route: List[Any] = (),
          link_cls: str = "") -> Dict[str, Any]:
    """A box: two lines (text, class); `note` follows line 1, muted. `links` are its arrows
    (class `link_cls`, e.g. "arrow split"); `route` a protocol's numbered steps, in order (None
    for a step whose plan is not there)."""
    return {"key": key, "line1": line1, "note": note, "line2": line2, "tip": tip, "cls": cls,
            "links": list(links), "attr": attr, "route": list(route), "link_cls": link_cls}


def _plan_node(worker_id: str, r: Dict[str, Any]) -> Dict[str, Any]:
    ops = _plural(r["ops"], "op")
    line2 = f'{ops} · {r["state"]} state · built' if r["state"] else f"{ops} · built"
    tip = f'{worker_id}:{r["id"]} · plan {plan_signature(r)} · {plan_summary(r)}\n{r["code"]}'
    return _node((worker_id, r["id"]), (r["name"], "b"), (line2, "m"), tip, cls="plan", note=" plan")


def _stored_protocol_node(worker_id: str, r: Dict[str, Any], plans: Dict[Any, Dict[str, Any]]) -> Dict[str, Any]:
    tip = f'{worker_id}:{r["id"]} · {protocol_tip(r, plans)}'
    if r["deployed"]:
        route = [tuple(s["at"]) for s in r["steps"]]
        hops = ", then ".join(s["worker"] for s in r["steps"])
        tip += f"\nprotocol.run(x), x on {worker_id}: {worker_id} sends x to {hops}"
        line2 = (" → ".join(s["worker"] for s in r["steps"]), "m")
    else:
        route = []
        line2 = ("not deployed: " + " → ".join(s["worker"] for s in r["steps"]), "m")
    return _node((worker_id, r["id"]), ("protocol", "b"), line2, tip, cls="plan",
                 note=f' · {_plural(r["plans"], "plan")}', route=route)


def _object_node(worker_id: str, r: Dict[str, Any], label: str = "",
                 plans: Dict[Any, Dict[str, Any]] = None) -> Dict[str, Any]:
    if r.get("kind") == "plan":
        return _plan_node(worker_id, r)
    if r.get("kind") == "protocol":
        return _stored_protocol_node(worker_id, r, plans or {})
    pointer = r.get("pointer")
    if pointer:
        line2 = (f'pointer {_shape(r["shape"])} {r["dtype"]}', "")
        tip = f'{worker_id}:{r["id"]}, a pointer kept by {worker_id} → {pointer[0]}:{pointer[1]}'
    elif r.get("owner") and not r.get("private") and r["preview"] == "data owner's":
        line2 = (f'owner\'s {_shape(r["shape"])} {r["dtype"]}', "m")
        tip = (f'{worker_id}:{r["id"]} · {_shape(r["shape"])} {r["dtype"]} · the data owner\'s: clients '
               f'compute on it, they cannot change it or take it home (it may be private)')
    elif r.get("share") or r.get("dealt"):  # one share of a secret: what it is, its random numbers
        badge, what = share_badge(r)
        kind = "share" if r.get("share") else "dealt"
        return _node((worker_id, r["id"]), (badge.replace(" of secret ", " · "), "b"), (r["preview"], "m"),
                     f'{worker_id}:{r["id"]} · {_shape(r["shape"])} {r["dtype"]} · {what}\n{r["preview"]}',
                     cls=kind)
    elif r.get("private"):
        line2 = (f'private {_shape(r["shape"])} {r["dtype"]}', "pv")
        tip = (f'{worker_id}:{r["id"]} · {_shape(r["shape"])} {r["dtype"]} · private: it computes on '
               f'{worker_id}, it never leaves (.get() is refused), and what is computed from it is private too')
    else:
        line2 = (r["preview"], "")
        tip = _tensor_tip(worker_id, r)
    first = label or str(r["id"])
    if r["requires_grad"] and not pointer:
        first += " ∇"
    return _node((worker_id, r["id"]), (first, "b" if label else "m"), line2, tip,
                 cls="priv" if r.get("private") else "", links=[(pointer[0], pointer[1])] if pointer else [])


def _secret_node(v: Dict[str, Any]) -> Dict[str, Any]:
    """One shared value: one box (its names, secret #id, shape, encoding), an arrow to each share."""
    name = secret_name(v["id"])
    names = ", ".join(v["names"]) + (f', +{v["more_names"]}' if v["more_names"] else "")
    live = [s for s in v["shares"] if s["state"] == "live"]
    where = ", ".join(f'{s["worker"]}:{s["id"]} (share {k}/{len(v["shares"])}, {s["state"]})'
                      for k, s in enumerate(v["shares"], 1))
    tip = (f'{names + " = " if names else ""}{name} (id {v["id"]}): {_shape(v["shape"])}, {v["encoding"]}, '
           f'split into {_plural(len(v["shares"]), "share")}: {where}. Each share alone is random numbers; '
           f'only all of them added together (modulo 2**62) give the value.')
    if v["crypto_provider"]:
        tip += f' Crypto provider: {v["crypto_provider"]}.'
    line2 = (f'{_shape(v["shape"])} {short_encoding(v["encoding"])}', "m")
    cls = "var secret"
    if not live:  # its shares came home with .get(), or were deleted
        line2, cls = (f'shares {v["shares"][0]["state"] if v["shares"] else "gone"}', "warn"), "var secret done"
    first = (names, "b") if names else (name, "b")
    return _node(("secret", v["id"]), first, line2, tip, cls=cls, note=f" {name}" if names else " shared",
                 links=[(s["worker"], s["id"]) for s in live], link_cls="arrow split")


def dealt_text(d: Dict[str, Any]) -> str:
    """``3 triples · 1 comparison``: what a crypto provider dealt so far."""
    return f'{_plural(d["triples"], "triple")} · {_plural(d["comparisons"], "comparison")}'


def _dealer_node(worker_id: str, d: Dict[str, Any], delivered: List[Any]) -> Dict[str, Any]:
    """A crypto provider's counters, at the top of its column: flashes when it dealt more since
    the board was last drawn; an arrow to each mask it delivered that is still on a party."""
    parties = ", ".join(d["parties"]) or "its parties"
    tip = (f'{worker_id} is the crypto provider of {parties}: it dealt {_plural(d["triples"], "Beaver triple")} '
           f'({_plural(d["triple_elements"], "number")}) for products and masks for '
           f'{_plural(d["comparisons"], "comparison")} ({_plural(d["compared"], "number")}). '
           f'All of it is random, used up once, and holds nothing of the secrets: {worker_id} never '
           f'gets a share.')
    return _node(("dealer", worker_id), ("crypto provider", "b"), (dealt_text(d), "m"), tip,
                 cls="dealer fresh" if d.get("fresh") else "dealer", links=delivered, link_cls="arrow dealt")


def _reference_node(v: Dict[str, Any], line2: str, what: str) -> Dict[str, Any]:
    """A plan pointer or a protocol pointer: an arrow to what it names, as a tensor pointer."""
    chain_text = " → ".join(f"{w}:{i}" for w, i in v["path"])
    tip = f'{v["name"]}: {chain_text}, {what}'
    links: List[Any] = []
    cls = "var"
    if v["state"] != "live":
        second, cls = (v["state"], "warn"), "var done"
    elif v["end"] in ("plan", "protocol"):
        second, links = (line2, "m"), [tuple(v["path"][1])]
    else:
        second = (f'→ {v["path"][1][0]}: {"worker gone" if v["end"] == "gone" else v["end"]}', "err")
    return _node(("var", v["name"]), (v["name"], "b"), second, tip, cls=cls, links=links)


def _protocol_variable_node(v: Dict[str, Any]) -> Dict[str, Any]:
    steps, at = v["steps"], v["at"]
    workers = " → ".join(s["worker"] for s in steps)
    plans = ", ".join(f'{s["worker"]}: {s["plan"]}' for s in steps)
    key = ("var", v["name"])
    if at is not None:  # sent with protocol.send(james): it runs from there
        where = at["path"][1]
        tip = (f'{v["name"]} = {v["type"]}, kept by {where[0]} ({where[0]}:{where[1]}): {plans}. '
               f'{v["name"]}.run(x) with x on {where[0]} runs it from there')
        if at["end"] != "protocol":
            second = (f'→ {where[0]}: {"worker gone" if at["end"] == "gone" else at["end"]}', "err")
            return _node(key, (v["name"], "b"), second, tip, cls="var", note=" Protocol")
        state = workers if v["deployed"] else "not deployed"
        return _node(key, (v["name"], "b"), (f"on {where[0]}: {state}", "m"), tip, cls="var",
                     note=" Protocol", links=[tuple(where)])
    if not v["deployed"]:
        tip = (f'{v["name"]} = {v["type"]}, not deployed: {plans}. {v["name"]}.deploy(...) sends each '
               f'plan to one of your workers, in this order')
        return _node(key, (v["name"], "b"), (workers, "m"), tip, cls="var", note=" not deployed")
    route = [tuple(s["path"][1]) if s["state"] == "live" and s["end"] == "plan" else None for s in steps]
    moves = "; ".join(f'{"sent" if i == 0 else "moved"} to {s["worker"]}, {s["plan"]} runs there'
                      for i, s in enumerate(steps))
    tip = f'{v["name"]}.run(x): x is {moves}; the result stays on {steps[-1]["worker"]}'
    missing = [s["worker"] for s, k in zip(steps, route) if k is None]
    if missing:
        tip += f' (the plan on {", ".join(missing)} is not there any more)'
    return _node(key, (v["name"], "b"), (workers, "m"), tip, cls="var", note=" Protocol", route=route)


def _variable_node(v: Dict[str, Any]) -> Dict[str, Any]:
    kind = v["kind"]
    if kind == "plan_pointer":
        return _reference_node(v, f'PointerPlan {v["plan"]}',
                               f'plan {v["plan"]}; {v["name"]}(x_ptr) runs it there in one message')
    if kind == "protocol_pointer":
        return _reference_node(v, "PointerProtocol", "a protocol; .get() brings it home")
    if kind == "protocol":
        return _protocol_variable_node(v)
    links: List[Any] = []
    cls = "var"
    if kind == "pointer":
        chain_text = " → ".join(f"{w}:{i}" for w, i in v["path"])
        tip = f'{v["name"]}: {chain_text}' + (f' (.{v["attr"]})' if v["attr"] else "")
        if v["end"] in ("unreachable", "unknown"):  # a network worker's server
            tip += (f'; {v["path"][-1][0]}\'s server did not answer' if v["end"] == "unreachable"
                    else f'; {v["path"][-1][0]}\'s server was not asked yet')
        if v["state"] != "live":
            line2, cls = (v["state"], "warn" if v["state"] == "fetched" else "err"), "var done"
        elif v["end"] in ("missing", "gone", "too long", "cycle", "unreachable", "unknown"):
            last = v["path"][-1]
            line2 = (f'→ {last[0]}: {"worker gone" if v["end"] == "gone" else v["end"]}', "err")
            links = [tuple(v["path"][1])] if len(v["path"]) > 2 else []
        else:
            attr = f'.{v["attr"]} of ' if v["attr"] else ""
            line2 = (f'{attr}{_shape(v["shape"])} {v["dtype"]}', "m")
            links = [tuple(v["path"][1])]
    elif kind == "multi":
        live = [p for p in v["pointers"] if p["state"] == "live"]
        n = len(v["pointers"])
        line2 = (f'multi-pointer · {n} worker{"" if n == 1 else "s"}', "m")
        links = [tuple(p["path"][1]) for p in live]
        tip = f'{v["name"]}: ' + ", ".join(" → ".join(f"{w}:{i}" for w, i in p["path"]) for p in v["pointers"])
    else:
        line2 = (v["type"], "m")
        # None marks a model's link (to its group), unlike a pointer's (worker id, object id)
        links = [(None, tuple(p["path"][1])) for p in v["params"] if p["state"] == "live"]
        tip = f'{v["name"]} = {v["type"]}: ' + ", ".join(
            f'{p["name"]} → {p["path"][1][0]}:{p["path"][1][1]}' for p in v["params"])
    return _node(("var", v["name"]), (v["name"], "b"), line2, tip, cls=cls, links=links,
                 attr=bool(kind == "pointer" and v.get("attr")))


def _node_chars(node: Dict[str, Any]) -> float:
    return max(len(node["line1"][0]) * (CH if node["line1"][1] == "b" else CH_SMALL)
               + len(node.get("note", "")) * CH_SMALL,
               len(node["line2"][0]) * (CH_SMALL if node["line2"][1] == "m" else CH))


def board_columns(board: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The diagram's columns with their items, before geometry (pure data; tested directly)."""
    groups_by_worker: Dict[str, List[Dict[str, Any]]] = {}
    for g in board.get("groups", []):
        groups_by_worker.setdefault(g["worker_id"], []).append(g)
    variables = board.get("variables", [])
    more_vars = board.get("more_variables", 0)
    var_items: List[Dict[str, Any]] = [{"node": _variable_node(v)} for v in variables]
    if more_vars:
        var_items.append({"note": f"… and {more_vars} more"})
    shared = board.get("shared", [])
    var_items += [{"node": _secret_node(v)} for v in shared]
    if board.get("more_shared"):
        var_items.append({"note": f'+{board["more_shared"]} more shared values'})
    if not variables and not shared:
        var_items.append({"note": "(no pointers yet)"})
    providers = board.get("providers", {})
    dealt_rows: Dict[str, List[Any]] = {}  # provider -> what it delivered that is on the board
    for w in board.get("workers", []):
        for r in w["rows"]:
            if r.get("dealt"):
                dealt_rows.setdefault(r["dealt"]["provider"], []).append((w["worker_id"], r["id"]))
    columns = [{"key": "me", "title": "me", "sub": [("notebook variables", "m")], "items": var_items}]
    plans = {(w["worker_id"], r["id"]): r for w in board.get("workers", []) for r in w["rows"]
             if r.get("kind") == "plan"}  # a protocol's tip names the plans it runs
    for w in _order_workers(board.get("workers", []), variables):
        wid = w["worker_id"]
        rows = {r["id"]: r for r in w["rows"]}
        items: List[Dict[str, Any]] = []
        if wid in providers:
            items.append({"node": _dealer_node(wid, providers[wid], dealt_rows.get(wid, []))})
        grouped = set()
        for g in groups_by_worker.get(wid, []):
            nodes = []
            for p in g["params"]:
                r = rows.get(p["id"])
                if r is not None:
                    grouped.add(p["id"])
                    nodes.append(_object_node(wid, r, p["name"]))
            items.append({"group": {"key": ("group", wid, g["name"]), "name": g["name"], "type": g["type"],
                                    "nodes": nodes, "ids": [(wid, p["id"]) for p in g["params"]]}})
        for r in w["rows"]:
            if r["id"] not in grouped:
                items.append({"node": _object_node(wid, r, plans=plans)})
        if w.get("more", 0) > 0:
            items.append({"note": f'… and {w["more"]} more'})
        net = w.get("network")
        if net and net.get("status") != "ok":
            items.append({"note": "(objects not known)"})
        elif not w["count"]:
            items.append({"note": "(empty)"})
        columns.append({"key": wid, "title": wid, "sub": worker_lines(w), "items": items, "net": bool(net)})
    return columns


def worker_lines(w: Dict[str, Any]) -> List[Tuple[str, str]]:
    """A worker column's head: how many objects, then its traffic (short lines: columns are narrow)."""
    count = w["count"]
    t = w.get("traffic") or {}
    objects = f'{count} object{"" if count == 1 else "s"}'
    net = w.get("network")
    if net:  # what crossed the wire is counted in the server process: here, the requests sent
        requests = net.get("requests", 0)
        requests = f'{requests} request{"" if requests == 1 else "s"}'
        lines = [(f'{objects} · {requests}' if net.get("status") == "ok" else requests, "m"),
                 (f'server {net["address"].replace("tcp://", "")}', "m")]
        status = net.get("status")
        if status != "ok":
            lines.append(({"unreachable": "unreachable", "error": "summary refused"}.get(status, "not asked yet"),
                          "err" if status in ("unreachable", "error") else "m"))
        return lines
    if not t:
        return [(objects, "m")]
    (_, _), (got, cls) = traffic_lines(t)
    messages = t.get("messages", 0)
    return [(f'{objects} · {messages} msg{"" if messages == 1 else "s"}', "m"),
            (f'in {human_bytes(t.get("bytes_in", 0))} · out {human_bytes(t.get("bytes_out", 0))}', "m"),
            (got, cls)]


def _arrow(points: List[Tuple[float, float]], cls: str = "arrow") -> str:
    """A smooth line through points, leaving and arriving horizontally; straight runs between
    each pair after the first (the lanes through the columns it crosses); an arrowhead at the end."""
    (x1, y1), (x2, y2) = points[0], points[-1]
    sign = 1 if x2 >= points[-2][0] else -1
    tip = x2 - 7 * sign  # the line stops where the head begins
    pts = points[:-1] + [(tip, y2)]
    d = [f"M{x1:.1f},{y1:.1f}"]
    for i in range(1, len(pts)):
        (ax, ay), (bx, by) = pts[i - 1], pts[i]
        if i % 2 == 0 and i < len(pts) - 1:  # across a column, in its lane
            d.append(f"L{bx:.1f},{by:.1f}")
            continue
        dx = max(12.0, abs(bx - ax) * 0.5) * (1 if bx >= ax else -1)
        d.append(f"C{ax + dx:.1f},{ay:.1f} {bx - dx:.1f},{by:.1f} {bx:.1f},{by:.1f}")
    path = " ".join(d)
    head = f"{x2:.1f},{y2:.1f} {tip:.1f},{y2 - 4:.1f} {tip:.1f},{y2 + 4:.1f}"
    tip_cls = " ".join(["tip"] + [c for c in cls.split() if c in ("route", "split", "dealt")])
    return (f'<path class="halo" d="{path}"/><path class="{cls}" d="{path}"/>'
            f'<polygon class="{tip_cls}" points="{head}"/>')


def _lanes(spans: List[Tuple[float, float]], bottom: float) -> List[float]:
    """Where a line can cross a column without touching its boxes: just above the first one,
    the gaps between them, and below the last one."""
    lanes = [(a[1] + b[0]) / 2 for a, b in zip(spans, spans[1:]) if b[0] - a[1] >= 6]
    above = [spans[0][0] - 6] if spans else []
    return above + lanes + [bottom + 4]


def _route(columns: List[Dict[str, Any]], sc: int, tc: int, y2: float,
           used: Dict[Tuple[int, float], int]) -> List[Tuple[float, float]]:
    """The waypoints of an arrow from column sc to column tc through the columns between: in
    each, the lane nearest the target's height (arrows sharing a lane are set a little apart)."""
    step = 1 if tc > sc else -1
    points: List[Tuple[float, float]] = []
    for c in range(sc + step, tc, step):
        col = columns[c]
        lane = min(_lanes(col["spans"], col["bottom"]), key=lambda y: abs(y - y2))
        n = used.get((c, lane), 0)
        used[(c, lane)] = n + 1
        y = lane + (0, 3, -3, 6, -6)[n % 5]
        left, right = col["x"] - 8, col["x"] + col["width"] + 8
        points += [(left, y), (right, y)] if step > 0 else [(right, y), (left, y)]
    return points


def board_svg(board: Dict[str, Any]) -> str:
    columns = board_columns(board)
    # widths
    for col in columns:
        chars = [len(col["title"]) * CH + 4] + [len(t) * CH_SMALL for t, _ in col["sub"]]
        for item in col["items"]:
            if "node" in item:
                chars.append(_node_chars(item["node"]) + 12)
            elif "group" in item:
                g = item["group"]
                chars.append(len(g["name"] + " " + g["type"]) * CH + 12)
                chars += [_node_chars(n) + 24 for n in g["nodes"]]
        col["width"] = max(MIN_COL, min(MAX_COL, int(max(chars) + 16)))
    x = MARGIN
    for col in columns:
        col["x"] = x
        x += col["width"] + COL_GAP
    width = x - COL_GAP + MARGIN
    head = max(18 + 13 * len(col["sub"]) for col in columns) + 14
    # vertical positions
    boxes: Dict[Any, Tuple[float, float, float, float, int]] = {}  # key -> x, y, w, h, column
    owner: Dict[Any, Any] = {}  # object key -> its group's key
    for ci, col in enumerate(columns):
        y = MARGIN + head
        col["spans"] = spans = []
        for item in col["items"]:
            top = y
            if "node" in item:
                node = item["node"]
                node["box"] = (col["x"], y, col["width"], NODE_H)
                boxes[node["key"]] = (*node["box"], ci)
                y += NODE_H + NODE_GAP
            elif "group" in item:
                g = item["group"]
                top = y
                y += GROUP_HEAD
                for node in g["nodes"]:
                    node["box"] = (col["x"] + 6, y, col["width"] - 12, NODE_H)
                    boxes[node["key"]] = (*node["box"], ci)
                    y += NODE_H + 4
                y += GROUP_PAD - 4
                g["box"] = (col["x"], top, col["width"], y - top)
                boxes[g["key"]] = (*g["box"], ci)
                for k in g["ids"]:
                    owner[k] = g["key"]
                y += NODE_GAP
            else:
                item["y"] = y
                y += 18
            spans.append((top, y - (NODE_GAP if "note" not in item else 4)))
        col["bottom"] = y
    # the notebook's variables in the order of where their arrows head first: fewer crossings
    var_col = columns[0]

    def first_hop(item):
        node = item.get("node", {})
        for target in [*node.get("links", []), *node.get("route", [])[:1]]:
            key = owner.get(target[1]) if target and target[0] is None else target
            if key in boxes:  # nearest column first, then by the target's height: fewer crossings
                _, ty, _, th, tc = boxes[key]
                return (tc, ty + th / 2)
        return (float("inf"), 0)
    var_col["items"].sort(key=lambda item: ("node" not in item, first_hop(item)))
    y = MARGIN + head
    for item in var_col["items"]:
        if "node" in item:
            item["node"]["box"] = (var_col["x"], y, var_col["width"], NODE_H)
            boxes[item["node"]["key"]] = (*item["node"]["box"], 0)
            y += NODE_H + NODE_GAP
        else:
            item["y"] = y
            y += 18
    var_col["bottom"] = y
    height = max(col["bottom"] for col in columns) + MARGIN + 4

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height:.0f}" '
           f'viewBox="0 0 {width} {height:.0f}" style="min-width:{width * MIN_SCALE:.0f}px" role="img">']
    for col in columns:
        lane = "lane net" if col.get("net") else "lane"
        out.append(f'<rect class="{lane}" x="{col["x"] - 4}" y="{MARGIN - 2}" width="{col["width"] + 8}" '
                   f'height="{height - 2 * MARGIN + 4:.0f}" rx="4"/>')
        out.append(f'<text class="h" x="{col["x"] + 2}" y="{MARGIN + 13}">{_e(_fit(col["title"], col["width"]))}</text>')
        for i, (text, cls) in enumerate(col["sub"]):
            out.append(f'<text class="m{" " + cls if cls != "m" else ""}" x="{col["x"] + 2}" '
                       f'y="{MARGIN + 27 + 13 * i}">{_e(_fit(text, col["width"] + 8, CH_SMALL))}</text>')
    nodes: List[Dict[str, Any]] = []
    for col in columns:
        for item in col["items"]:
            if "note" in item:
                out.append(f'<text class="m" x="{col["x"] + 4}" y="{item["y"] + 12}">{_e(item["note"])}</text>')
            elif "node" in item:
                nodes.append(item["node"])
                out.append(_node_svg(item["node"]))
            else:
                g = item["group"]
                gx, gy, gw, gh = g["box"]
                tip = f'{g["name"]} = {g["type"]}, its tensors on {col["key"]}'
                out.append(f'<g class="group" data-worker="{_e(col["key"])}" data-name="{_e(g["name"])}">'
                           f'<title>{_e(tip)}</title>'
                           f'<rect class="grp" x="{gx}" y="{gy}" width="{gw}" height="{gh}" rx="4"/>'
                           f'<text x="{gx + 6}" y="{gy + 13}"><tspan class="b">{_e(_fit(g["name"], gw * 0.6))}</tspan>'
                           f' <tspan class="m">{_e(_fit(g["type"], gw * 0.4, CH_SMALL))}</tspan></text></g>')
                for node in g["nodes"]:
                    nodes.append(node)
                    out.append(_node_svg(node))
    used: Dict[Tuple[int, float], int] = {}

    def link(source: Any, key: Any, cls: str) -> str:
        sx, sy, sw, sh, sc = boxes[source]
        tx, ty, tw, th, tc = boxes[key]
        y1, y2 = sy + sh / 2, ty + (GROUP_HEAD / 2 + 1 if len(key) == 3 and key[0] == "group" else th / 2)
        if tc > sc:
            start, end = (sx + sw, y1), (tx, y2)
        elif tc < sc:
            start, end = (sx, y1), (tx + tw, y2)
        else:  # same column: around its right side
            start, end = (sx + sw, y1), (tx + tw, y2)
            return _arrow([start, (sx + sw + 20, (y1 + y2) / 2), (sx + sw + 20, (y1 + y2) / 2), end], cls)
        return _arrow([start, *_route(columns, sc, tc, y2, used), end], cls)

    badges: List[Tuple[Any, int]] = []
    for node in nodes:  # arrows last, over the lanes
        seen = set()
        for target in node["links"]:
            key = owner.get(target[1]) if target[0] is None else target
            if key is None or key not in boxes or key in seen:
                continue
            seen.add(key)
            out.append(link(node["key"], key, node.get("link_cls") or ("arrow attr" if node["attr"] else "arrow")))
        # a protocol: where x goes when it runs, step by step, each arrow landing on a plan
        previous = node["key"]
        for step, key in enumerate(node.get("route", ()), 1):
            if key is not None and key in boxes:
                if previous is not None and previous in boxes:
                    out.append(link(previous, key, "arrow route"))
                badges.append((key, step))
            previous = key
    on_box: Dict[Any, int] = {}
    for key, step in badges:  # the step numbers, over everything, at the plan box's corner
        x, y, w, _, _ = boxes[key]
        n = on_box[key] = on_box.get(key, 0) + 1
        cx, cy = x + w - 8 - 17 * (n - 1), y + 1
        out.append(f'<g class="step" data-step="{step}"><title>step {step}</title>'
                   f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="7"/>'
                   f'<text x="{cx:.1f}" y="{cy + 3:.1f}" text-anchor="middle">{step}</text></g>')
    out.append("</svg>")
    return "".join(out)


def _node_svg(node: Dict[str, Any]) -> str:
    x, y, w, h = node["box"]
    (t1, c1), (t2, c2) = node["line1"], node["line2"]
    ch1 = CH if c1 == "b" else CH_SMALL
    ch2 = CH_SMALL if c2 == "m" else CH
    first = _fit(t1, w, ch1)
    note = node.get("note", "")
    room = w - 12 - len(first) * ch1  # the note gets what line 1 leaves, or nothing
    if note and room >= 4 * CH_SMALL:
        first = (f'<tspan class="{c1}">{_e(first)}</tspan>'
                 f'<tspan class="m">{_e(_fit(note, room + 12, CH_SMALL))}</tspan>')
        line1 = f'<text x="{x + 6}" y="{y + 12}">{first}</text>'
    else:
        line1 = f'<text class="{c1}" x="{x + 6}" y="{y + 12}">{_e(first)}</text>'
    return (f'<g class="{node["cls"]}"><title>{_e(node["tip"])}</title>'
            f'<rect class="box" x="{x}" y="{y}" width="{w}" height="{h}" rx="3"/>'
            f'{line1}'
            f'<text class="{c2}" x="{x + 6}" y="{y + 27}">{_e(_fit(t2, w, ch2))}</text></g>')


CAPTION = ("Each arrow is a pointer, drawn to the object it names; a pointer kept by a worker "
           "continues the chain from that worker's column. Grey boxes: a remote model's tensors. "
           "∇: requires_grad.")
PLAN_CAPTION = ("Purple boxes: plans and protocols a worker keeps. Purple numbered arrows: where x "
                "goes when a protocol runs, protocol.run(x): sent to step 1's worker, each plan's "
                "result moved on to the next.")


NET_CAPTION = ("Dashed columns: network workers, whose objects live in a server process (listed "
               "from the summary it sent after the last cell). Amber boxes: private data: it "
               "computes there and never leaves.")


SHARE_CAPTION = ("Teal: a secret-shared value, one box split across its workers (dashed arrows): each "
                 "worker holds one share, random numbers on their own; only all the shares added "
                 "together give the value, so no single worker holds anything meaningful. Orange: the "
                 "crypto provider, which deals random triples and comparison masks that the parties use "
                 "up; it flashes when it deals more.")


def _has_plans(board: Dict[str, Any]) -> bool:
    return (any(r.get("kind") for w in board.get("workers", []) for r in w["rows"])
            or any(v["kind"] in ("plan_pointer", "protocol", "protocol_pointer")
                   for v in board.get("variables", [])))


def dashboard_html(board: Dict[str, Any]) -> str:
    """The notebook's variables, each worker's objects and traffic, and every pointer an arrow."""
    if not board.get("workers") and not board.get("variables"):
        return f'{_STYLE}<div class="jsyft"><span class="muted">no workers yet</span></div>'
    caption = CAPTION + (" " + PLAN_CAPTION if _has_plans(board) else "")
    if any(w.get("network") for w in board.get("workers", [])):
        caption += " " + NET_CAPTION
    if board.get("shared") or board.get("providers"):
        caption += " " + SHARE_CAPTION
    return (f'{_STYLE}<div class="jsyft jsyft-dash"><div class="jsyft-board">{board_svg(board)}</div>'
            f'<div class="jsyft-caption">{_e(caption)}</div></div>')


# --- training you can watch ------------------------------------------------------------------
_LINE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                 "#7f7f7f", "#bcbd22", "#17becf")
PLOT_W, PLOT_H = 420, 140


def training_html(snap: Dict[str, Any]) -> str:
    """Each worker's batches this epoch as a bar, and the losses that came home as lines."""
    progress, losses = snap.get("progress", {}), snap.get("losses", {})
    workers = list(dict.fromkeys([*progress, *losses]))
    if not workers:
        return (f'{_STYLE}<div class="jsyft"><b>Training</b> <span class="muted">· waiting for a '
                'FederatedDataLoader or for losses to come home with .get()</span></div>')
    colour = {w: _LINE_COLOURS[i % len(_LINE_COLOURS)] for i, w in enumerate(workers)}
    rows = []
    for w in workers:
        done, total = progress.get(w, [0, 0])
        width = 0 if not total else round(100 * min(done, total) / total)
        last = losses.get(w)
        rows.append(
            f'<tr><td style="color:{colour[w]}"><b>{_e(w)}</b></td>'
            f'<td style="min-width:140px"><div style="background:var(--jp-layout-color3,#ddd);height:8px">'
            f'<div style="width:{width}%;background:{colour[w]};height:8px"></div></div></td>'
            f'<td class="muted">{done}/{total} batches</td>'
            f'<td class="muted">{"last loss " + format(last[-1], ".4g") if last else ""}</td></tr>')
    head = f'<b>Training</b> <span class="muted">· epoch {snap.get("epoch", 0)}</span>'
    return f'{_STYLE}<div class="jsyft">{head}<table>{"".join(rows)}</table>{_loss_plot(losses, colour)}</div>'


def _loss_plot(losses: Dict[str, List[float]], colour: Dict[str, str]) -> str:
    series = {w: v for w, v in losses.items() if v}  # already thinned by the training log
    if not series:
        return ""
    values = [x for v in series.values() for x in v]
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    longest = max(len(v) for v in series.values())
    parts = [f'<svg width="{PLOT_W}" height="{PLOT_H + 16}" xmlns="http://www.w3.org/2000/svg" '
             'font-family="monospace" font-size="10">',
             f'<text x="0" y="10" fill="currentColor">{high:.4g}</text>',
             f'<text x="0" y="{PLOT_H + 12}" fill="currentColor">{low:.4g}</text>']
    for w, v in series.items():
        step = (PLOT_W - 60) / max(1, longest - 1)
        points = " ".join(f"{55 + i * step:.1f},{4 + (PLOT_H - 8) * (high - x) / span:.1f}"
                          for i, x in enumerate(v))
        parts.append(f'<polyline fill="none" stroke="{colour[w]}" stroke-width="1.5" '
                     f'points="{points}"><title>{_e(w)}</title></polyline>')
    parts.append("</svg>")
    return '<div class="muted">losses brought home with .get(), per worker</div>' + "".join(parts)


# --- a served worker's audit log ---------------------------------------------------------------
AUDIT_CLIENTS = 8  # clients drawn; the others are counted


def _clock(t: float) -> str:
    import time

    return time.strftime("%H:%M:%S", time.localtime(t)) if t else ""


def audit_entry_text(e: Dict[str, Any]) -> str:
    """``Tensor.add on 123, 456`` / ``get 123`` / ``search``"""
    what = e["op"] or e["kind"]
    objects = ", ".join(str(i) for i in e["objects"][:4]) + (", …" if len(e["objects"]) > 4 else "")
    return f"{what} on {objects}" if objects and e["op"] else f"{what} {objects}".strip()


def _audit_svg(snap: Dict[str, Any]) -> str:
    """Each client an arrow into the served worker: how many requests, how many refused."""
    clients = sorted(snap["clients"], key=lambda c: -c["requests"])[:AUDIT_CLIENTS]
    row_h, left_w, gap, right_w = 34, 190, 170, 170
    more = len(snap["clients"]) - len(clients)
    height = max(1, len(clients)) * row_h + 8 + (14 if more > 0 else 0)
    sx = 4 + left_w + gap
    sy = 4 + (max(1, len(clients)) * row_h) / 2 - 18
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{sx + right_w + 4}" height="{height}" '
           f'viewBox="0 0 {sx + right_w + 4} {height}" role="img">']
    for i, c in enumerate(clients):
        y = 4 + i * row_h
        cy = y + 14
        refused = c["refused"]
        cls = "arrow refused" if refused and refused == c["requests"] else "arrow"
        ty = sy + 18 + (i - (len(clients) - 1) / 2) * 4
        x1, x2 = 4 + left_w, sx - 7
        path = f"M{x1},{cy:.1f} C{x1 + 60},{cy:.1f} {x2 - 60},{ty:.1f} {x2},{ty:.1f}"
        tip_cls = "tip refused" if "refused" in cls else "tip"
        label = f'{_plural(c["requests"], "request")}'
        note = f'{refused} refused' if refused else ""
        out.append(f'<g class="client" data-client="{_e(c["client"])}"><title>{_e(c["client"])}: '
                   f'{_e(label)}{", " + _e(note) if note else ""}'
                   f'{", " + str(c["private"]) + " on private data" if c["private"] else ""}'
                   f' (a client: one NetworkWorker session, named by how it authenticated)</title>'
                   f'<rect class="box" x="4" y="{y}" width="{left_w}" height="28" rx="3"/>'
                   f'<text x="10" y="{y + 12}">{_e(_fit(c["client"], left_w))}</text>'
                   f'<text class="m" x="10" y="{y + 24}">{_e(label)}'
                   + (f' <tspan class="err">· {_e(note)}</tspan>' if note else "")
                   + f'</text><path class="{cls}" d="{path}"/>'
                   f'<polygon class="{tip_cls}" points="{sx},{ty:.1f} {x2},{ty - 4:.1f} {x2},{ty + 4:.1f}"/></g>')
    private = f' · {snap["private"]} private' if snap["private"] else ""
    out.append(f'<g class="srv"><title>{_e(snap["worker_id"])} served at {_e(snap["address"])}: '
               f'{_e(_plural(snap["objects"], "object"))} of the data owner{_e(private)}</title>'
               f'<rect class="box" x="{sx}" y="{sy}" width="{right_w}" height="36" rx="3"/>'
               f'<text x="{sx + 6}" y="{sy + 14}"><tspan font-weight="bold">'
               f'{_e(_fit(snap["worker_id"], right_w * 0.5))}</tspan><tspan class="m"> served</tspan></text>'
               f'<text class="m" x="{sx + 6}" y="{sy + 28}">'
               f'{_e(_plural(snap["objects"], "object"))}{_e(private)}</text></g>')
    if more > 0:
        out.append(f'<text class="m" x="10" y="{height - 2}">… and {more} more clients</text>')
    out.append("</svg>")
    return "".join(out)


def audit_html(snap: Dict[str, Any]) -> str:
    """A served worker's audit log: each client's requests as an arrow into it (refused ones in
    red), then the latest entries, newest first."""
    name, address = _e(snap["worker_id"]), _e(snap["address"])
    total, refused = snap["total"], snap["refused"]
    head = (f'<b>{name}</b> <span class="muted">· served at {address} · '
            f'{_plural(len(snap["clients"]), "client")} · {_plural(total, "request")}</span>')
    if refused:
        head += f' <span class="refused">· {refused} refused</span>'
    if not snap["audit"]:
        return f'{_STYLE}<div class="jsyft">{head} <span class="muted">(served without an audit log)</span></div>'
    if not total:
        return (f'{_STYLE}<div class="jsyft jsyft-audit">{head}<div class="muted">no requests yet: a client '
                f'connects with sy.NetworkWorker(hook, host, port, id={_e(repr(snap["worker_id"]))}, '
                f'token=...)</div></div>')
    rows = []
    for e in snap["entries"]:
        cls = ' class="refused"' if e["refused"] else ""
        result = "refused" if e["refused"] else "ok"
        private = ' <span class="priv">· private data</span>' if e["private"] else ""
        rows.append(f'<tr{cls}><td>{_e(_clock(e["time"]))}</td><td>{_e(e["client"])}</td>'
                    f'<td>{_e(audit_entry_text(e))}{private}</td><td>{result}</td></tr>')
    lost = ('<div class="muted">(more requests came in between two redraws than the log keeps: '
            'the counts miss some)</div>' if snap.get("lost") else "")
    table = (f'<table><tr><th>time</th><th>client</th><th>ran</th><th></th></tr>{"".join(rows)}</table>'
             f'<div class="jsyft-caption">The latest {len(rows)} of {total}, newest first. Private data: '
             'the data owner\'s private tensors, or tensors computed from them. Refused: the data '
             'owner\'s rules stopped it before it ran.</div>')
    return f'{_STYLE}<div class="jsyft jsyft-audit">{head}{_audit_svg(snap)}{lost}{table}</div>'
