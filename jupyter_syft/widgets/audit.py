"""AuditView: who ran what on a served worker's objects, live (``server`` in the data owner's
notebook, after ``server = sy.serve(bob, ...)``).

The server logs on its own threads. Its listener here only notes that there is news and, at
most every ``throttle`` seconds, schedules a drain on the kernel's event loop (thread-safely);
the drain, on the kernel's main thread, reads the new entries of the log and redraws. Without
an event loop (a plain Python session) the view is drained after each cell and on display.
The view keeps counts and the latest entries as plain data (clients, kinds, ops, object ids).

An update drawn by the timer belongs to no cell (its messages name the last cell that ran, which
has finished): a client that saves widget state per cell, like nbclient, drops it. So the next
drain from a cell (after it ran) sends the state again if the timer drew something since.
"""
import asyncio
import threading
import weakref
from collections import deque
from typing import Any, Dict, List, Optional

import ipywidgets as widgets
from traitlets import Dict as DictTrait
from traitlets import Unicode

from . import render

RECENT = 12  # entries shown, newest first


def _kernel_loop() -> Optional[asyncio.AbstractEventLoop]:
    """The event loop the kernel runs cells in, if any (ipykernel 6 and 7 both run one)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _entries(log: Any) -> List[dict]:
    """A copy of the log's entries, which server threads append to while we read."""
    for _ in range(10):
        try:
            return list(log.entries)
        except RuntimeError:  # "deque mutated during iteration": read it again
            continue
    return []


def _plain(entry: dict) -> Dict[str, Any]:
    objects = entry.get("objects") or []
    return {"time": float(entry.get("time") or 0.0), "client": str(entry.get("client")),
            "kind": str(entry.get("kind")), "op": None if entry.get("op") is None else str(entry["op"]),
            "objects": [i for i in objects if type(i) is int], "private": entry.get("private") is True,
            "refused": entry.get("refused") is True}


class AuditView(widgets.HTML):
    """A WorkerServer's audit log: requests per client (refused ones in red), the latest entries."""

    worker_id = Unicode("").tag(sync=True)
    snapshot = DictTrait().tag(sync=True)

    def __init__(self, server: Any, throttle: float = 0.25, **kwargs) -> None:
        super().__init__(**kwargs)
        self.throttle, self.closed = throttle, False
        self._log = server.audit
        self._server = weakref.ref(server)  # which server this is; never kept alive by the view
        self._server_info = {"worker_id": str(server.worker_id), "address": server.address}
        self._owner = weakref.ref(server.owner)  # counted, never kept alive by the view
        self._clients: Dict[str, Dict[str, int]] = {}
        self._recent: deque = deque(maxlen=RECENT)
        self._total = self._refused = 0
        self._lost = False  # more came in between two drains than the log keeps
        self._last: Optional[dict] = None  # the newest entry counted (the log's own dict)
        self._lock = threading.Lock()
        self._scheduled = False
        self._drawn_outside = False  # the timer drew something no cell has sent since
        self._loop = _kernel_loop()
        if self._log is not None:
            self._log.listeners.append(self._on_entry)
        self.drain()

    # --- the server's threads ------------------------------------------------------------
    def _on_entry(self, entry: dict) -> None:
        """Called on a server thread: never touches the widget, only schedules a drain."""
        loop = self._loop
        if loop is None or self.closed:
            return
        with self._lock:
            if self._scheduled:
                return
            self._scheduled = True
        try:
            loop.call_soon_threadsafe(loop.call_later, self.throttle, self._tick)
        except RuntimeError:  # the loop is closed (the kernel is going away)
            with self._lock:
                self._scheduled = False

    # --- the kernel's main thread --------------------------------------------------------
    def _tick(self) -> None:
        with self._lock:
            self._scheduled = False
        if not self.closed:
            try:
                self._drawn_outside |= self.drain()
            except Exception:  # a view problem must never reach the kernel's loop
                pass

    def drain(self, in_cell: bool = False) -> bool:
        """Count the entries logged since the last drain and redraw (main thread only); True if
        it drew something new. `in_cell`: a cell's refresh (see the module docstring)."""
        if self.closed:
            return False
        if self._log is not None:
            entries = _entries(self._log)
            new = entries
            if self._last is not None:
                for i in range(len(entries) - 1, -1, -1):
                    if entries[i] is self._last:
                        new = entries[i + 1:]
                        break
                else:  # more came in since than the log keeps: the oldest of them were dropped
                    self._lost = True
                    since = self._last.get("time") or 0.0
                    new = [e for e in entries if (e.get("time") or 0.0) > since]
            for entry in new:
                self._count(_plain(entry))
            if new:
                self._last = new[-1]
        drew = self.show(self.snapshot_now())
        if in_cell and self._drawn_outside:
            self._drawn_outside = False
            if not drew:
                self.send_state(["worker_id", "snapshot", "value"])
        return drew

    def _count(self, e: Dict[str, Any]) -> None:
        client = self._clients.setdefault(e["client"], {"requests": 0, "refused": 0, "private": 0})
        client["requests"] += 1
        client["refused"] += e["refused"]
        client["private"] += e["private"]
        self._total += 1
        self._refused += e["refused"]
        self._recent.append(e)

    def snapshot_now(self) -> Dict[str, Any]:
        owner = self._owner()
        return {"kind": "audit", **self._server_info, "audit": self._log is not None,
                "objects": len(owner.objects) if owner is not None else 0,
                "private": sum(1 for i in owner.private if i in owner.objects) if owner is not None else 0,
                "total": self._total, "refused": self._refused, "lost": self._lost,
                "clients": [{"client": name, **counts} for name, counts in self._clients.items()],
                "entries": list(reversed(self._recent))}

    def show(self, snap: Dict[str, Any]) -> bool:
        if snap == self.snapshot:
            return False
        with self.hold_sync():
            self.worker_id, self.snapshot = snap["worker_id"], snap
            self.value = render.audit_html(snap)
        return True

    def serves(self, server: Any) -> bool:
        return self._server() is server

    def close(self) -> None:
        self.closed = True
        if self._log is not None and self._on_entry in self._log.listeners:
            try:
                self._log.listeners.remove(self._on_entry)
            except ValueError:
                pass
        super().close()

    def __repr__(self) -> str:
        return f"AuditView({self._server_info['worker_id']})"


__all__ = ["AuditView", "RECENT"]
