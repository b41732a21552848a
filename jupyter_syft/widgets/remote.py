"""What the views know of a network worker's store: its server's summary, as metadata.

A NetworkWorker's own ``_store`` stays empty: its objects live in the server process. The views
learn them from one "summary" request (what ``bob._objects`` sends), asked only when something
could have changed there (this process sent the worker a request since the last summary, or
deletes wait for it) and at most once per cell; the caller (widgets/live.py) keeps the cell count.
A server that does not answer within ``SUMMARY_TIMEOUT`` seconds is shown as unreachable, and is
asked again only after another request to it, or when its view is displayed again.

The small tensors a summary carries are turned into previews at once: a ``RemoteStore`` holds
rows (ids and metadata), never a tensor.
"""
import weakref
from typing import Any, Dict, List, Optional

import torch

from ..exceptions import WorkerUnreachableError
from ..workers.base import all_workers
from ..workers.client import NetworkWorker

SUMMARY_TIMEOUT = 3.0  # seconds a view waits for a summary: never the worker's own 30 s


class RemoteStore:
    """The last summary of one network worker: rows by id, and whether the server answered.

    ``status``: "unknown" (not asked yet), "ok", "unreachable" (no answer within the timeout) or
    "error" (it answered with an error, e.g. a refused token)."""

    __slots__ = ("rows", "status", "error", "requests_seen", "asked_in", "asked")

    def __init__(self) -> None:
        self.rows: Dict[int, Dict[str, Any]] = {}
        self.status, self.error = "unknown", ""
        self.requests_seen = -1  # requests sent to the worker when the last summary was asked
        self.asked_in: Any = None  # the cell of the last attempt
        self.asked = 0  # summaries the views asked for (not counted as the notebook's requests)

    def end(self, obj_id: Any) -> str:
        """Where a pointer to obj_id ends on this worker (see snapshot.chain)."""
        if self.status == "unreachable" or self.status == "error":
            return "unreachable"
        if self.status == "unknown":
            return "unknown"
        row = self.rows.get(obj_id)
        if row is None:
            return "missing"
        return {"PlanRecord": "plan", "StoredProtocol": "protocol"}.get(row["dtype"], "tensor")


_stores: "weakref.WeakKeyDictionary[NetworkWorker, RemoteStore]" = weakref.WeakKeyDictionary()


def is_network(worker: Any) -> bool:
    """A worker whose objects live in another process (a NetworkWorker's server, a Ray actor):
    its views come from its summary."""
    return isinstance(worker, NetworkWorker) or getattr(type(worker), "objects_elsewhere", False)


def store_of(worker: NetworkWorker) -> RemoteStore:
    store = _stores.get(worker)
    if store is None:
        store = _stores[worker] = RemoteStore()
    return store


def requests_to(worker: NetworkWorker) -> int:
    """Requests this process has sent the worker (each one may have changed its objects)."""
    return sum(w._requests.get(worker, 0) for w in all_workers())


def _deletes_waiting(worker: NetworkWorker) -> bool:
    return any(w._pending_deletes.get(worker) for w in all_workers())


def needs_summary(worker: NetworkWorker, retry: bool = False) -> bool:
    """Could the worker's objects differ from its last summary (a request was sent to it, or
    deletes wait for it)? One that did not answer is asked again only after another request to
    it, or with `retry` (its view displayed again)."""
    if worker._removed:
        return False
    store = store_of(worker)
    if store.status in ("unreachable", "error"):  # its deletes waited when it did not answer
        return retry or store.requests_seen != requests_to(worker)
    return store.status == "unknown" or store.requests_seen != requests_to(worker) or _deletes_waiting(worker)


def fetch(worker: NetworkWorker, cell: Any, retry: bool = False) -> bool:
    """Ask the server for the summary if it could have changed and was not asked in this cell;
    True if it was asked (its views should be redrawn: at least the request count changed).
    Never raises; never waits more than SUMMARY_TIMEOUT."""
    store = store_of(worker)
    if store.asked_in == cell or not needs_summary(worker, retry):
        return False
    store.asked_in = cell
    store.asked += 1
    import jupyter_syft

    saved = worker.timeout
    worker.timeout = min(saved, SUMMARY_TIMEOUT)
    try:
        # local_worker's deletes for the worker ride along (its _request sends them)
        reply = jupyter_syft.local_worker._request(worker, "summary", [])
    except WorkerUnreachableError as e:
        text = _first_line(e)
        if "did not answer" in text:  # the rest of it is about a request of the user's
            text = f"did not answer within {worker.timeout:g} s"
        store.status, store.error, store.rows = "unreachable", text, {}
    except Exception as e:  # a refused token, a malformed reply: shown, never raised
        store.status, store.error, store.rows = "error", f"{type(e).__name__}: {_first_line(e)}", {}
    else:
        store.status, store.error = "ok", ""
        store.rows = {row["id"]: row for row in map(summary_row, reply if type(reply) is list else ())
                      if row is not None}
    finally:
        worker.timeout = saved
        store.requests_seen = requests_to(worker)  # our own request counts too
    return True


def _first_line(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else type(e).__name__
    return text if len(text) <= 160 else text[:159] + "…"


def summary_row(row: Any) -> Optional[Dict[str, Any]]:
    """One row of a summary ([id, small tensor or None, dtype, shape, requires_grad, private])
    as a view's object row (see snapshot.tensor_row), with "private" when it is; None if the row
    has the wrong layout."""
    from .snapshot import tensor_row

    if type(row) is not list or len(row) < 6 or type(row[0]) is not int:
        return None
    obj_id, value, dtype, shape, requires_grad, private = row[:6]
    private = private is True
    if isinstance(value, torch.Tensor) and not private:
        out = tensor_row(obj_id, value)  # a preview of its values; the tensor itself is dropped
        out["requires_grad"] = requires_grad is True
        if len(row) > 6 and row[6] is True:
            out["owner"] = True
        return out
    shape = [d for d in shape if type(d) is int] if type(shape) is list else []
    is_tensor = str(dtype).startswith("torch.")
    numel = 1
    for d in shape:
        numel *= d
    if private:
        preview = "private"
    elif is_tensor:
        preview = f"({numel:,} value{'' if numel == 1 else 's'})"
    else:
        preview = str(dtype)
    out = {"id": obj_id, "dtype": str(dtype).replace("torch.", ""), "shape": shape,
           "requires_grad": requires_grad is True, "grad": False, "preview": preview, "tags": []}
    if private:
        out["private"] = True
    if len(row) > 6 and row[6] is True:  # a server that lists the data owner's objects too
        out["owner"] = True
    return out


def owner_row(obj_id: int, shape: List[int], dtype: str) -> Dict[str, Any]:
    """An object of the data owner that a pointer of this notebook reaches (found by search):
    the summary lists only the client's own objects, so its row comes from the pointer."""
    return {"id": obj_id, "dtype": dtype, "shape": list(shape), "requires_grad": False, "grad": False,
            "preview": "data owner's", "tags": [], "owner": True}


def network_info(worker: NetworkWorker) -> Dict[str, Any]:
    """What a view says about the worker itself: where its server is, whether it answered, and
    how many requests the notebook's code sent it (the views' own summaries not counted)."""
    store = store_of(worker)
    return {"address": worker.address, "status": store.status, "error": store.error,
            "requests": max(0, requests_to(worker) - store.asked)}


def rows_of(worker: NetworkWorker) -> List[Dict[str, Any]]:
    return list(store_of(worker).rows.values())
