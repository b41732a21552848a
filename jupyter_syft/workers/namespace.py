"""What one client of a network worker may see and do.

Each client (an authenticated user and its session) gets a namespace: a worker of its own whose
objects only it can name, plus read access to the data owner's objects (found by search). The
owner's objects cannot be changed, deleted or moved by a client, and those marked private cannot
be fetched: pointers to them compute, and anything computed from them is private too. Gradients
that flow from private data into a client's own parameters are not marked: training a model on
private data and taking the model home is what federated learning is for.
"""
import time
from collections import deque
from pathlib import Path
from typing import Any, Callable, Deque, Dict, List, Optional, Set

import torch

from ..exceptions import OperationNotAllowedError, PrivateDataError
from ..store import ObjectsDict
from . import persist
from .base import _WORKERS, BaseWorker, _notify_workers

# Handlers a network namespace does not serve: they reach other workers (chains, moves,
# protocols), which a worker on another machine cannot name yet.
_NOT_SERVED = ("move", "remote_send", "remote_get", "run_protocol")


def _no_secret_sharing(fields: list, inputs) -> bytes:
    raise OperationNotAllowedError(
        "secret sharing runs between virtual workers in one kernel; a network worker does not "
        "serve its steps yet")
# Operations that write into their first argument (or an out= tensor).
_INPLACE_DUNDERS = {"__iadd__", "__isub__", "__imul__", "__itruediv__", "__ifloordiv__", "__imod__",
                    "__ipow__", "__iand__", "__ior__", "__ixor__", "__ilshift__", "__irshift__",
                    "__setitem__", "__set__", "__idiv__"}


class OwnerData:
    """The data owner's objects, shared read-only by every client, and which of them are private."""

    def __init__(self, objects: Dict[int, Any], private: Set[int]) -> None:
        self.objects, self.private = objects, private


class _VisibleObjects(ObjectsDict):
    """A client's own objects, then the owner's: looked up in that order; iteration, deletes and
    stores touch only the client's own."""

    __slots__ = ("owner",)

    def get(self, key, default=None):
        value = dict.get(self, key)
        if value is None:
            value = self.owner.objects.get(key) if type(key) is int else None
        return default if value is None else value

    def __contains__(self, key) -> bool:
        return dict.__contains__(self, key) or key in self.owner.objects


class AuditLog:
    """Who ran what on which objects: a bounded list of entries, and listeners for a live view."""

    def __init__(self, limit: int = 10_000) -> None:
        self.entries: Deque[dict] = deque(maxlen=limit)
        self.listeners: List[Callable[[dict], None]] = []

    def add(self, entry: dict) -> None:
        self.entries.append(entry)
        for listener in list(self.listeners):
            try:
                listener(entry)
            except Exception:  # a broken view must never break the server
                pass


class ClientNamespace(BaseWorker):
    def __init__(self, worker_id: Any, client: str, owner: OwnerData, audit: Optional[AuditLog],
                 store_dir: Optional[Path] = None) -> None:
        super().__init__(f"{worker_id}/{client}")
        # not a worker of this process: others must not find it by id, views must not show it
        if _WORKERS.get(self.id) is self:
            del _WORKERS[self.id]
        _notify_workers("removed", self)
        self.id = worker_id  # errors and reprs name the worker the client knows
        self.client, self.owner, self.audit = client, owner, audit
        visible = _VisibleObjects()
        visible.worker_id, visible.owner = worker_id, owner
        self._store.objects = visible
        self._private: Set[int] = set()
        self._added: List[int] = []
        self._removed: List[int] = []
        self.store_dir = store_dir
        if store_dir is not None:  # what an earlier run of the server acknowledged
            objects, private = persist.load(store_dir)
            dict.update(visible, objects)
            self._private.update(private)
        self._store.subscribe(self._on_store_event)
        for kind in _NOT_SERVED:
            self._handlers.pop(kind, None)
        self._handlers["summary"] = self._on_summary
        self._handlers["mpc"] = _no_secret_sharing
        for kind, handler in list(self._handlers.items()):
            self._handlers[kind] = self._checked(kind, handler)

    def _on_store_event(self, event: str, ids: List[int]) -> None:
        if event == "add":
            self._added.extend(ids)
        elif event == "remove":
            self._removed.extend(ids)

    def is_private(self, obj_id: Any) -> bool:
        return obj_id in self._private or obj_id in self.owner.private

    def _checked(self, kind: str, handler: Callable) -> Callable:
        def serve(fields: list, inputs) -> bytes:
            ids = [obj_id for _, obj_id in inputs]
            if kind in ("get", "get_all") and fields:  # ids given as numbers, not references
                named = fields[0] if type(fields[0]) is list else fields[:1]
                ids = [i for i in named[:16] if type(i) is int]
            op = fields[0] if kind == "cmd" and fields and type(fields[0]) is str else None
            tainted = any(self.is_private(i) for i in ids)
            refused = True
            try:
                fields = self._check(kind, op, fields, ids)
                self._added.clear()
                try:
                    reply = handler(fields, inputs)
                finally:
                    if tainted:
                        self._private.update(self._added)
                    if self.store_dir is not None:
                        self._persist(kind, op, fields, ids)
                    self._added.clear()
                refused = False
                return reply
            finally:
                if self.store_dir is not None and self._removed:  # deletes that rode along
                    persist.remove(self.store_dir, self._removed)
                self._removed.clear()
                if self.audit is not None:  # refusals are logged too
                    self.audit.add({"time": time.time(), "client": self.client, "kind": kind,
                                    "op": op, "objects": ids[:16], "private": tainted,
                                    "refused": refused})
        return serve

    def _check(self, kind: str, op: Optional[str], fields: list, ids: List[int]) -> list:
        """What the data owner's rules forbid, refused before anything runs; the fields to run
        with (a plan or an optimizer step gets copies of the owner's tensors)."""
        own = self._store.objects
        shared = [i for i in ids if i in self.owner.objects and not dict.__contains__(own, i)]
        if kind == "get" or kind == "get_all":
            wanted = fields[0] if kind == "get_all" and fields and type(fields[0]) is list else fields[:1]
            for obj_id in wanted:
                if self.is_private(obj_id):
                    raise PrivateDataError(
                        f"object {obj_id} on {self.id} is private (or computed from private data): "
                        "pointers to it compute, but it cannot be brought home with .get()")
                if obj_id in self.owner.objects and not dict.__contains__(own, obj_id):
                    raise PrivateDataError(f"object {obj_id} belongs to {self.id}'s data owner; "
                                           "compute on it, or .copy() it first")
        if shared and kind == "cmd" and _writes_first_argument(op, fields):
            raise PrivateDataError(f"{op} would change the data owner's object {shared[0]} on {self.id}; "
                                   "clients may read it, not change it")
        if shared and kind in ("run_plan", "optim_step"):
            # a plan or a step may write into its arguments: it gets copies of the owner's data
            fields = [_copies(f, self.owner.objects) for f in fields]
        if kind == "store" and fields and type(fields[0]).__name__ == "PointerDesc":
            raise PrivateDataError("a network worker keeps no pointers to other workers")
        return fields

    def _persist(self, kind: str, op: Optional[str], fields: list, ids: List[int]) -> None:
        """Write what this request made or changed, before its reply acknowledges it."""
        own = self._store.objects
        changed = list(self._added)
        if kind in ("run_plan", "optim_step") or (kind == "cmd" and _writes_first_argument(op, fields)):
            changed.extend(ids)
        if op is not None and op.endswith("backward"):  # grads of every leaf may have changed
            changed.extend(i for i, t in dict.items(own) if isinstance(t, torch.Tensor) and t.requires_grad)
        for obj_id in dict.fromkeys(changed):
            obj = dict.get(own, obj_id)
            if obj is not None:
                persist.save(self.store_dir, obj_id, obj, self.is_private(obj_id))
        if self._removed:
            persist.remove(self.store_dir, self._removed)
            self._removed.clear()

    def _housekeeping(self, items: list) -> None:
        super()._housekeeping(items)
        self._private.intersection_update(dict.keys(self._store.objects))

    # Small objects are shown with their values (as `bob._objects` printed them in PySyft);
    # private ones and large ones by their description only.
    SUMMARY_VALUES_UP_TO = 100

    def _on_summary(self, fields: list, inputs) -> bytes:
        from .. import codec

        if fields:
            raise ValueError("summary takes no fields")
        rows = []
        for obj_id, obj in dict.items(self._store.objects):
            if not isinstance(obj, torch.Tensor):
                rows.append([obj_id, None, type(obj).__name__, [], False, False])
                continue
            private = self.is_private(obj_id)
            value = obj.detach() if not private and obj.numel() <= self.SUMMARY_VALUES_UP_TO else None
            rows.append([obj_id, value, str(obj.dtype), list(obj.shape), bool(obj.requires_grad), private])
        return codec.encode_value_reply(rows)

    def search(self, query: Any) -> List[Any]:
        raise PrivateDataError("search a network worker through a pointer: me.request_search(...)")

    def _on_search(self, fields: list, inputs) -> bytes:
        # the owner's objects are what a client discovers: search them with the client's own
        from .. import codec, tags

        if len(fields) != 1:
            raise ValueError("search needs a query")
        entries = []
        for objects in (dict(self.owner.objects), dict(self._store.objects)):
            for obj_id, obj in tags.search(objects, fields[0]):
                if isinstance(obj, torch.Tensor):
                    entries.append([obj_id, obj.dtype, list(obj.shape), bool(obj.requires_grad),
                                    tags.tags_of(obj), tags.description_of(obj)])
        return codec.encode_value_reply(entries)


def _copies(value: Any, owned: Dict[int, Any]) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone().requires_grad_(value.requires_grad) if any(
            value is obj for obj in owned.values()) else value
    if type(value) is list:
        return [_copies(v, owned) for v in value]
    return value


def _writes_first_argument(op: Optional[str], fields: list) -> bool:
    if op is None:
        return False
    name = op.rsplit(".", 1)[-1]
    kwargs = fields[2] if len(fields) > 2 and type(fields[2]) is dict else {}
    return (name.endswith("_") and not name.endswith("__")) or name in _INPLACE_DUNDERS \
        or op.endswith(".__set__") or "out" in kwargs
