"""What views need to draw secret sharing, kept as ids and metadata only.

- ``shared_values()``: every shared tensor alive in this kernel (held weakly: dropping a tensor
  drops its entry), each with its parties, the id of its share on each, its shape and what it
  encodes. A worker view finds out from it that object 412 on bob is "share 1 of 2 of secret 7".
- ``activity``: what the crypto providers handed out and the parties used up (Beaver triples,
  comparison masks), per provider, with the last few events for a view to animate.

Views subscribe with ``activity.subscribe(listener)``; a listener is called with no arguments after
each protocol step, and nothing is recorded per step while nobody listens (counters only).

While someone listens, ``activity`` also remembers which objects a provider delivered to each
party (``dealt(worker_id, obj_id)``): a comparison's masks (r and its bits) are objects in the
parties' stores until the comparison uses them up, and a view labels them "mask from james"
instead of showing them as ordinary tensors. (Triples travel as seeds and leave no objects.)
"""
import weakref
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Sequence

Listener = Callable[[], None]

_live: "weakref.WeakSet" = weakref.WeakSet()
RECENT = 20  # events kept for views
DEALT_KEPT = 4096  # delivered objects remembered for views; the oldest are forgotten first
# What a provider delivers to each party, in the order deliver() stores it there.
PARTS = {"triple": (), "comparison": ("r", "bits")}


def track(shared) -> None:
    """Called for every AdditiveSharingTensor made; costs one weak-set insert."""
    global _made
    _made += 1
    _live.add(shared)


_made = 0  # shared tensors made so far in this kernel


def made_count() -> int:
    """How many shared tensors were made so far: views compare it from cell to cell, cheaply,
    to know whether share labels may have changed."""
    return _made


def shared_values() -> List[Dict[str, Any]]:
    """Metadata of every live shared tensor: id, shape, encoding, provider, and per party the
    worker id and the id of the share there."""
    out = []
    for t in list(_live):
        try:
            out.append({
                "id": t.secret_id,
                "shape": list(t.shape),
                "encoding": t.encoding,
                "crypto_provider": None if t._provider is None else t._provider.id,
                "shares": [{"worker": s._location.id, "id": s._id_at_location, "state": s._state}
                           for s in t._shares],
            })
        except Exception:  # a tensor half-built or torn down while we looked
            continue
    return out


class Activity:
    def __init__(self) -> None:
        self.listeners: List[Listener] = []
        self.reset()

    def reset(self) -> None:
        # provider id -> {"triples": n, "triple_elements": n, "comparisons": n, "compared": n}
        self.providers: Dict[Any, Dict[str, int]] = {}
        self.recent: List[Dict[str, Any]] = []
        # (party id as str, object id) -> {"provider", "kind", "part"}
        self.delivered: "OrderedDict[tuple, Dict[str, str]]" = OrderedDict()

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def record(self, provider_id: Any, kind: str, elements: int, parties: List[Any],
               delivered: Optional[Sequence[Sequence[int]]] = None) -> None:
        """kind: "triple" (a Beaver triple for one product) or "comparison" (masks for one
        comparison); elements: how many numbers it covered; delivered: per party, the ids of
        the objects the provider put there (``PARTS[kind]`` in order); without it, nothing is
        labelled."""
        counts = self.providers.setdefault(provider_id, {"triples": 0, "triple_elements": 0,
                                                         "comparisons": 0, "compared": 0})
        if kind == "triple":
            counts["triples"] += 1
            counts["triple_elements"] += elements
        else:
            counts["comparisons"] += 1
            counts["compared"] += elements
        if not self.listeners:
            return
        parts = PARTS.get(kind, ())
        if parts and delivered is not None:
            for party, ids in zip(parties, delivered):
                for part, obj_id in zip(parts, ids):
                    self.delivered[(str(party), obj_id)] = {"provider": str(provider_id), "kind": kind,
                                                            "part": part}
            while len(self.delivered) > DEALT_KEPT:
                self.delivered.popitem(last=False)
        self.recent.append({"provider": provider_id, "kind": kind, "elements": elements,
                            "parties": list(parties)})
        del self.recent[:-RECENT]
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:  # a broken view must never break a computation
                pass

    def snapshot(self) -> Dict[str, Any]:
        return {"providers": {str(k): dict(v) for k, v in self.providers.items()},
                "recent": list(self.recent)}


activity = Activity()


def dealt(worker_id: Any, obj_id: Any) -> Optional[Dict[str, str]]:
    """{"provider", "kind", "part"} if a crypto provider delivered that object (a comparison's
    mask r or its bits), else None. Known only while someone listens to ``activity``."""
    return activity.delivered.get((str(worker_id), obj_id))
