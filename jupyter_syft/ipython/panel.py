"""The kernel end of the JupyterLab "Syft" side panel: a comm target, ``jupyter_syft.panel``.

The panel opens a comm; we answer with a snapshot (every worker's first page of objects, and the
pointers the notebook's variables hold) and send a new one after each cell, and at most every
``throttle`` seconds during a long cell, whenever it changed. With no panel open nothing is
computed. Messages (comm data):

    kernel -> panel  {"type": "snapshot", "version": 1, "workers": [...], "pointers": [...]}
    panel -> kernel  {"type": "refresh"}   (asks for a snapshot now)

A worker is a snapshot dict (worker_id, count, rows, gone); a pointer is a pointer snapshot
plus "name", the variable that holds it.
"""
import time
from typing import Any, Dict, List

from ..pointers import PointerTensor
from ..workers.base import all_workers
from ..widgets import snapshot
from .output_cache import CachedPointer

TARGET = "jupyter_syft.panel"
VERSION = 1


class PanelChannel:
    def __init__(self, shell, throttle: float = 0.25) -> None:
        self.shell, self.throttle = shell, throttle
        self.comms: Dict[str, Any] = {}
        self._last_sent: Dict[str, Any] = {}
        self._last_time = 0.0
        self._manager = _comm_manager(shell)
        if self._manager is not None:
            self._manager.register_target(TARGET, self._on_open)

    def close(self) -> None:
        for comm in list(self.comms.values()):
            comm.close()
        self.comms.clear()
        if self._manager is not None:
            self._manager.unregister_target(TARGET, self._on_open)

    def _on_open(self, comm, open_msg) -> None:
        self.comms[comm.comm_id] = comm
        comm.on_msg(lambda msg: self.send(force=True))
        comm.on_close(lambda msg: self._forget(comm.comm_id))
        self.send(force=True)

    def _forget(self, comm_id: str) -> None:
        self.comms.pop(comm_id, None)
        self._last_sent.pop(comm_id, None)

    def snapshot(self) -> Dict[str, Any]:
        workers = [snapshot.worker_snapshot(w.id, w._store.objects)
                   for w in all_workers() if not w.is_client_worker]
        return {"type": "snapshot", "version": VERSION, "workers": workers, "pointers": self._named_pointers()}

    def _named_pointers(self) -> List[Dict[str, Any]]:
        hidden = getattr(self.shell, "user_ns_hidden", {})
        found = []
        for name, value in list(self.shell.user_ns.items()):
            if name.startswith("_") or name in hidden:
                continue
            if isinstance(value, CachedPointer):
                value = value._ref()
            if type(value) is PointerTensor:
                found.append({"name": name, **snapshot.pointer_snapshot(value)})
        return found

    def send(self, force: bool = False) -> None:
        """Send a snapshot to every open panel, if it changed (or if forced)."""
        if not self.comms:
            return
        self._last_time = time.monotonic()
        data = self.snapshot()
        for comm_id, comm in list(self.comms.items()):
            if force or self._last_sent.get(comm_id) != data:
                self._last_sent[comm_id] = data
                comm.send(data)

    def during_cell(self) -> None:
        if self.comms and time.monotonic() - self._last_time >= self.throttle:
            self.send()


def _comm_manager(shell):
    kernel = getattr(shell, "kernel", None)
    manager = getattr(kernel, "comm_manager", None)
    if manager is None:
        try:  # ipykernel >= 6.26 keeps one manager in the comm package
            import comm

            manager = comm.get_comm_manager()
        except Exception:
            return None
    return manager
