"""What views need to draw secret sharing, kept as ids and metadata only.

- ``shared_values()``: every shared tensor alive in this kernel (held weakly: dropping a tensor
  drops its entry), each with its parties, the id of its share on each, its shape and what it
  encodes. A worker view finds out from it that object 412 on bob is "share 1 of 2 of secret 7".
- ``activity``: what the crypto providers handed out and the parties used up (Beaver triples,
  comparison masks), per provider, with the last few events for a view to animate.

Views subscribe with ``activity.subscribe(listener)``; a listener is called with no arguments after
each protocol step, and nothing is recorded per step while nobody listens (counters only).
"""
import weakref
from typing import Any, Callable, Dict, List

Listener = Callable[[], None]

_live: "weakref.WeakSet" = weakref.WeakSet()
RECENT = 20  # events kept for views


def track(shared) -> None:
    """Called for every AdditiveSharingTensor made; costs one weak-set insert."""
    _live.add(shared)


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


def share_of(worker_id: Any, obj_id: int):
    """(secret id, share number from 1, number of shares) if that object is a live share."""
    for t in list(_live):
        for k, s in enumerate(t._shares):
            if s._location.id == worker_id and s._id_at_location == obj_id:
                return t.secret_id, k + 1, len(t._shares)
    return None


class Activity:
    def __init__(self) -> None:
        self.listeners: List[Listener] = []
        self.reset()

    def reset(self) -> None:
        # provider id -> {"triples": n, "triple_elements": n, "comparisons": n, "compared": n}
        self.providers: Dict[Any, Dict[str, int]] = {}
        self.recent: List[Dict[str, Any]] = []

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def record(self, provider_id: Any, kind: str, elements: int, parties: List[Any]) -> None:
        """kind: "triple" (a Beaver triple for one product) or "comparison" (masks for one
        comparison); elements: how many numbers it covered."""
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
