"""Secret sharing in the views, as ids and metadata (read from ``crypto.registry``; no tensor, no
pointer, no shared tensor is ever kept).

- A row of a worker's object that is a share gets ``"share": {"secret": id, "k": 1, "n": 2,
  "encoding": "integers"}``; one that a crypto provider delivered (a comparison's mask) gets
  ``"dealt": {"provider": "james", "kind": "comparison", "part": "r"}``. Their previews stay
  what they are: random int64 numbers.
- The board gets ``"shared"``: the first ``MAX_SHARED`` live shared values, each once, with the
  notebook names that hold it and where its shares are; ``"more_shared"`` counts the others;
  ``"providers"``: what each crypto provider dealt, and to whom (see ``board_fields``), with
  ``"fresh": True`` while the running cell dealt more (the board and the panel flash it).
"""
import itertools
from typing import Any, Dict, Iterable, List, Optional, Tuple

from torch import nn

from ..crypto import registry
from ..crypto.additive_sharing import AdditiveSharingTensor
from ..crypto.fixed_precision import FixedPrecisionTensor, SharedPointer

MAX_SHARED = 8  # shared values drawn on the board; the others are counted
MAX_NAMES = 3  # names shown per shared value
RECENT_DEALT = 64  # delivered objects (newest first) the board looks for on the parties

Key = Tuple[str, Any]  # (worker id as str, object id)
_dealt_before: Dict[str, int] = {}  # provider -> triples + comparisons dealt before this cell


def end_cell() -> None:
    """A cell ended (the live views' end_cell): deals from now on are the next cell's news."""
    _dealt_before.clear()
    _dealt_before.update({str(pid): c["triples"] + c["comparisons"]
                          for pid, c in registry.activity.providers.items()})


class Labels:
    """Which objects are shares and which came from a crypto provider, read once per snapshot."""

    def __init__(self, values: Optional[List[Dict[str, Any]]] = None) -> None:
        self.values = registry.shared_values() if values is None else values
        self.shares: Dict[Key, Dict[str, Any]] = {}
        for v in self.values:
            n = len(v["shares"])
            for k, s in enumerate(v["shares"], 1):
                self.shares[(str(s["worker"]), s["id"])] = {"secret": v["id"], "k": k, "n": n,
                                                            "encoding": v["encoding"]}

    def label(self, worker_id: Any, row: Dict[str, Any]) -> Dict[str, Any]:
        """The row, with "share" or "dealt" when it is one (a copy then: rows of a network
        worker's summary are shared with its store)."""
        key = (str(worker_id), row["id"])
        share = self.shares.get(key)
        if share is not None:
            return {**row, "share": dict(share)}
        dealt = registry.dealt(*key)
        if dealt is not None:
            return {**row, "dealt": dict(dealt)}
        return row

    def rows(self, worker_id: Any, rows: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
        if not self.shares and not registry.activity.delivered:
            return list(rows)
        return [self.label(worker_id, r) for r in rows]

    def dealt_ids(self, worker_id: Any) -> List[Any]:
        """The newest objects delivered to this worker by a provider (to draw them even past
        the first page of its objects)."""
        wid = str(worker_id)
        recent = itertools.islice(reversed(registry.activity.delivered), RECENT_DEALT)
        return [obj_id for w, obj_id in recent if w == wid]


def shared_of(value: Any) -> List[Tuple[str, AdditiveSharingTensor]]:
    """("", shared tensor) for a variable holding one (as is, in fixed precision, or behind a
    SharedPointer); (".weight", ...) for each shared parameter of a model; else nothing."""
    if isinstance(value, SharedPointer):
        value = value._shared
    if isinstance(value, FixedPrecisionTensor):
        value = value.child
    if isinstance(value, AdditiveSharingTensor):
        return [("", value)]
    if isinstance(value, nn.Module):
        found = []
        for pname, p in value.named_parameters():
            inner = p.child if isinstance(p, FixedPrecisionTensor) else p
            if isinstance(inner, AdditiveSharingTensor):
                found.append(("." + pname, inner))
        return found
    return []


def _ended(v: Dict[str, Any]) -> bool:
    return not any(s["state"] == "live" for s in v["shares"])


def board_fields(labels: Labels, names: Dict[Any, List[str]]) -> Dict[str, Any]:
    """The board's "shared", "more_shared" and "providers". ``names``: secret id -> the notebook
    names holding it, in the namespace's order. Named values come first, then the others; those
    whose shares all came home (or were deleted) last."""
    order = {sid: i for i, sid in enumerate(names)}
    values = sorted(labels.values, key=lambda v: (_ended(v), v["id"] not in order,
                                                  order.get(v["id"], 0), v["id"]))
    shared = []
    for v in values[:MAX_SHARED]:
        held = names.get(v["id"], [])
        shared.append({"id": v["id"], "shape": list(v["shape"]), "encoding": v["encoding"],
                       "crypto_provider": None if v["crypto_provider"] is None else str(v["crypto_provider"]),
                       "names": held[:MAX_NAMES], "more_names": max(0, len(held) - MAX_NAMES),
                       "shares": [{"worker": str(s["worker"]), "id": s["id"], "state": s["state"]}
                                  for s in v["shares"]]})
    return {"shared": shared, "more_shared": max(0, len(values) - MAX_SHARED),
            "providers": providers(labels.values)}


def providers(values: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    """Each crypto provider (of a live shared value, or one that dealt something): what it dealt
    so far in this kernel, and the parties it serves."""
    counts = registry.activity.snapshot()
    parties: Dict[str, List[str]] = {}

    def serve(provider: Any, workers: Iterable[Any]) -> None:
        known = parties.setdefault(str(provider), [])
        for w in workers:
            if str(w) not in known:
                known.append(str(w))
    for v in values:
        if v["crypto_provider"] is not None:
            serve(v["crypto_provider"], (s["worker"] for s in v["shares"]))
    for event in counts["recent"]:
        serve(event["provider"], event["parties"])
    out = {}
    for pid in [*counts["providers"], *parties]:
        if pid not in out:
            dealt = counts["providers"].get(pid, {})
            out[pid] = {"triples": dealt.get("triples", 0), "triple_elements": dealt.get("triple_elements", 0),
                        "comparisons": dealt.get("comparisons", 0), "compared": dealt.get("compared", 0),
                        "parties": parties.get(pid, [])}
            if out[pid]["triples"] + out[pid]["comparisons"] > _dealt_before.get(pid, 0):
                out[pid]["fresh"] = True  # it dealt during this cell
    return out


def dealt_total() -> int:
    """How many triples and comparisons were dealt so far (a cheap key for redrawing)."""
    return sum(c["triples"] + c["comparisons"] for c in registry.activity.providers.values())
