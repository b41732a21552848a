"""The kernel end of the JupyterLab "Syft" side panel: a comm target, ``jupyter_syft.panel``.

The panel opens a comm; we answer with a snapshot (every worker's first page of objects and its
traffic, the notebook's variables with the chain each pointer leads along, remote models as
groups) and send a new one after each cell, and at most every ``throttle`` seconds during a long
cell, whenever it changed. With no panel open nothing is computed. Messages (comm data):

    kernel -> panel  {"type": "snapshot", "version": 3, "workers": [...], "variables": [...],
                      "groups": [...], "more_variables": 0}
    panel -> kernel  {"type": "refresh"}   (asks for a snapshot now)

The fields after "type" are the dashboard's board (widgets/snapshot.py, ``board_snapshot``), with
each worker's first ``PAGE_SIZE`` objects. Version 1 had "pointers" (named pointer snapshots)
instead of "variables" and "groups"; version 2 had no plans or protocols (rows with a "kind",
variables of kind "plan_pointer", "protocol" and "protocol_pointer").

A network worker's rows come from its server's last summary (asked by the live views after a
cell, or when the panel opens or asks, at most once per cell, never during a cell); it has a
"network" field (address, status, requests), its private rows have "private": True and the data
owner's objects that pointers reach are rows with "owner": True. These fields are optional: a
panel that does not know them shows the worker as any other, so the version stays 3.
"""
import time
from typing import Any, Callable, Dict

from ..workers.base import all_workers
from ..widgets import snapshot
from .namespace import user_variables

TARGET = "jupyter_syft.panel"
VERSION = snapshot.BOARD_VERSION


class PanelChannel:
    def __init__(self, shell, throttle: float = 0.25) -> None:
        self.shell, self.throttle = shell, throttle
        self.comms: Dict[str, Any] = {}
        self._last_sent: Dict[str, Any] = {}
        self._last_time = 0.0
        self.before_snapshot: Callable[[], None] = lambda: None  # set by the extension
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
        comm.on_msg(lambda msg: self._asked())
        comm.on_close(lambda msg: self._forget(comm.comm_id))
        self._asked()

    def _asked(self) -> None:
        """A panel opened or asked for a snapshot: bring network workers' summaries up to date
        (if they could have changed, once per cell), then send."""
        try:
            self.before_snapshot()
        except Exception:  # never keep the panel from its snapshot
            pass
        self.send(force=True)

    def _forget(self, comm_id: str) -> None:
        self.comms.pop(comm_id, None)
        self._last_sent.pop(comm_id, None)

    def snapshot(self) -> Dict[str, Any]:
        workers = [w for w in all_workers() if not w.is_client_worker]
        board = snapshot.board_snapshot(workers, user_variables(self.shell), limit=snapshot.PAGE_SIZE)
        return {"type": "snapshot", **board}

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
