"""LiveViews: one long-lived view per worker and per displayed pointer, plus the dashboard.

Stores and pointers only mark views dirty (cheap, on every operation); ``refresh()`` re-renders
what is dirty, after each cell and, at most every ``throttle`` seconds, during a long cell.
Views get snapshots (ids and metadata); LiveViews itself keeps no pointers.
The dashboard also shows the notebook's variables: ``variables`` is a function returning
(name, value) pairs (the IPython user namespace, set by the extension), called only when the
dashboard is on screen.

A network worker's objects live in its server process: no store event tells us they changed.
Its views show the server's summary (widgets/remote.py), asked at most once per cell (``cell``
counts them; the extension calls ``end_cell()``), only while something shows the worker, and
only if this process sent it a request since the last summary. A server that does not answer
is shown as unreachable and is not asked again in that cell (nor later, until the notebook
sends it another request or displays its view again).

Secret sharing: views label shares and what crypto providers delivered from
``crypto.registry`` (widgets/sharing.py). Its activity listener runs inside a protocol step: it
only marks the dashboard and the parties' views dirty; they are drawn by the next throttled
refresh (a store event of the same step, or the end of the cell).

A WorkerServer served from this notebook shows as an AuditView (widgets/audit.py): its log grows
on the server's threads, which only schedule a drawing; the kernel's main thread draws (after
each cell, on display, or by a throttled timer on the kernel's event loop).
"""
import functools
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from ..pointers import DELETED, LIVE, PointerTensor
from ..workers.base import BaseWorker, all_workers, subscribe_workers, unsubscribe_workers
from ..workers.client import NetworkWorker
from ..workers.namespace import ClientNamespace
from ..crypto import registry
from . import remote, sharing, snapshot
from .audit import AuditView
from .views import Dashboard, PointerView, TrainingView, WorkerView
from .. import training


class LiveViews:
    def __init__(self, throttle: float = 0.25, clock: Callable[[], float] = time.monotonic) -> None:
        self.throttle, self._clock = throttle, clock
        self.worker_views: Dict[Any, WorkerView] = {}
        self.pointer_views: Dict[int, PointerView] = {}
        self.dashboard: Optional[Dashboard] = None
        self._watched: Dict[Any, tuple] = {}  # worker id -> (worker, store listener)
        self._dirty_workers: set = set()
        self._pointer_snaps: Dict[int, dict] = {}  # pointer id -> newest snapshot to show
        self._dashboard_dirty = False
        self._last_refresh = 0.0
        self._refreshing = False
        self.on_store_change: Optional[Callable[[], None]] = None  # e.g. the side panel's channel
        self.variables: Callable[[], Iterable[Tuple[str, Any]]] = lambda: ()
        self._retired: List[tuple] = []  # (worker id, view) of removed workers: shown as gone once
        self._board_key: Any = None  # what the dashboard last drew: variables and traffic
        self._sharing_seen: Any = (0, 0)  # (deals, shared tensors made) at the last cell's end
        self.training: Optional[TrainingView] = None
        self._training_dirty = False
        self.cell = 0  # which cell runs: a network worker's summary is asked at most once per cell
        self.panel_open: Callable[[], bool] = lambda: False  # the side panel shows every worker
        self.audit_views: Dict[int, AuditView] = {}  # id(server) -> its view

    # --- following workers and pointers ----------------------------------------------------
    def attach(self) -> None:
        subscribe_workers(self._on_worker_event)
        registry.activity.subscribe(self._on_crypto_event)
        for worker in all_workers():
            self._watch(worker)

    def detach(self) -> None:
        unsubscribe_workers(self._on_worker_event)
        registry.activity.unsubscribe(self._on_crypto_event)
        training.log.unsubscribe(self._on_training_event)
        if self.training is not None:
            self.training.close()
            self.training = None
        for view in self.audit_views.values():
            view.close()  # also stops following the server's log
        self.audit_views.clear()
        for worker, listener in list(self._watched.values()):
            worker._store.unsubscribe(listener)
            worker.unsubscribe_pointers(self._on_pointer_event)
        self._watched.clear()
        for view in [*self.worker_views.values(), *self.pointer_views.values(), self.dashboard]:
            if view is not None:
                view.close()
        self.worker_views.clear()
        self.pointer_views.clear()
        self.dashboard = None

    def _watch(self, worker: BaseWorker) -> None:
        if worker.id in self._watched:
            self._unwatch(worker.id)
        listener = functools.partial(self._on_store_event, worker.id)
        worker._store.subscribe(listener)
        worker.subscribe_pointers(self._on_pointer_event)
        self._watched[worker.id] = (worker, listener)
        self._mark_worker(worker.id)

    def _unwatch(self, worker_id: Any) -> None:
        worker, listener = self._watched.pop(worker_id)
        worker._store.unsubscribe(listener)
        worker.unsubscribe_pointers(self._on_pointer_event)

    def _on_worker_event(self, event: str, worker: BaseWorker) -> None:
        if isinstance(worker, ClientNamespace):
            return  # a served client's namespace (made on a server thread): not a worker here
        if event == "created":
            self._watch(worker)
        elif event == "removed" and self._watched.get(worker.id, (None,))[0] is worker:
            self._unwatch(worker.id)
            self._dashboard_dirty = True
            view = self.worker_views.pop(worker.id, None)
            if view is not None:  # it says "gone"; a worker made later under this id gets a new view
                self._retired.append((worker.id, view))

    def _mark_worker(self, worker_id: Any) -> None:
        self._dirty_workers.add(worker_id)
        self._dashboard_dirty = True

    def _on_store_event(self, worker_id: Any, event: str, ids) -> None:
        self._dirty_workers.add(worker_id)
        self._dashboard_dirty = True
        if self.on_store_change is not None:
            self.on_store_change()
        if (self.worker_views or self.dashboard) and self._clock() - self._last_refresh >= self.throttle:
            self.refresh()  # a long cell: show progress, at most every `throttle` seconds

    def _on_crypto_event(self) -> None:
        """A provider dealt a triple or a comparison's masks: called inside the protocol step, so
        only mark what changed (the parties' views label the masks; the board counts)."""
        self._dashboard_dirty = True
        recent = registry.activity.recent
        if recent:
            self._dirty_workers.update(w for w in recent[-1]["parties"] if w in self._watched)

    def _on_training_event(self) -> None:
        self._training_dirty = True
        if self._clock() - self._last_refresh >= self.throttle:
            self.refresh()  # the loop is running: show it, at most every `throttle` seconds

    def training_view(self) -> TrainingView:
        """The training view, following the training log from now on (a fresh log)."""
        training.log.reset()
        if self.training is None:
            self.training = TrainingView()
            training.log.subscribe(self._on_training_event)
        self.training.show(training.log.snapshot())
        self._training_dirty = False
        return self.training

    def _on_pointer_event(self, event: str, ptr: PointerTensor) -> None:
        pid = ptr._id
        if event != "created":
            if pid in self.pointer_views:
                snap = snapshot.pointer_snapshot(ptr)
                if event == "dropped" and snap["state"] == LIVE:
                    snap["state"] = "dropped"  # the pointer is gone; its object was kept on purpose
                self._pointer_snaps[pid] = snap
        self._dashboard_dirty = True

    # --- views ---------------------------------------------------------------------------
    def _worker_snapshot(self, worker_id: Any) -> dict:
        entry = self._watched.get(worker_id)
        if entry is None:
            return snapshot.gone_worker_snapshot(worker_id)
        if remote.is_network(entry[0]):
            return snapshot.network_worker_snapshot(entry[0])
        return snapshot.worker_snapshot(worker_id, entry[0]._store.objects)

    def _network_workers(self) -> List[BaseWorker]:
        return [w for w, _ in self._watched.values() if remote.is_network(w)]

    def sync_network(self, workers: Optional[Iterable[BaseWorker]] = None, retry: bool = False) -> None:
        """Ask these network workers (default: every one something shows) for their summary, if
        it could have changed; once per cell each. `retry`: also one that did not answer (a
        view displayed again). Marks the views of those asked."""
        if workers is None:
            on_screen = self.dashboard is not None or self.panel_open()
            workers = [w for w in self._network_workers() if on_screen or w.id in self.worker_views]
        for worker in workers:
            if remote.fetch(worker, self.cell, retry):
                self._mark_worker(worker.id)

    def end_cell(self) -> None:
        self.cell += 1
        sharing.end_cell()  # what providers deal from now on is new ("fresh") on the board

    def _board_workers(self) -> List[BaseWorker]:
        return [w for w, _ in self._watched.values() if not w.is_client_worker]

    def _board_state(self) -> Any:
        """A cheap key of what the board shows besides the stores: which names hold which
        values, and how many messages each worker has served (in-place updates, .grad reads)."""
        names = tuple((name, id(value), snapshot.remote_tensor_ids(value))
                      for name, value in self.variables())
        return names, tuple(remote.network_info(w)["requests"] if remote.is_network(w) else w.traffic["messages"]
                            for w in self._board_workers()), sharing.dealt_total()

    def _dashboard_data(self) -> Dict[str, Any]:
        self._board_key = self._board_state()
        return snapshot.board_snapshot(self._board_workers(), self.variables())

    def worker_view(self, worker: BaseWorker) -> WorkerView:
        if remote.is_network(worker) and self._watched.get(worker.id, (None,))[0] is worker:
            self.sync_network([worker], retry=True)
        view = self.worker_views.get(worker.id)
        if view is None:
            view = self.worker_views[worker.id] = WorkerView()
        view.show(self._worker_snapshot(worker.id))
        self._last_refresh = self._clock()  # what is on screen is fresh now
        return view

    # Views of pointers that are gone stay on screen (they say "fetched" or "deleted"), but only
    # this many are kept open; beyond it the oldest such views are closed.
    MAX_FINISHED_POINTER_VIEWS = 256

    def pointer_view(self, ptr: PointerTensor) -> PointerView:
        view = self.pointer_views.get(ptr._id)
        if view is None:
            self._close_old_pointer_views()
            view = self.pointer_views[ptr._id] = PointerView()
        view.show(snapshot.pointer_snapshot(ptr))
        return view

    def _close_old_pointer_views(self) -> None:
        finished = [pid for pid, view in self.pointer_views.items()
                    if view.snapshot.get("state") != LIVE and pid not in self._pointer_snaps]
        for pid in finished[:max(0, len(finished) - self.MAX_FINISHED_POINTER_VIEWS + 1)]:
            self.pointer_views.pop(pid).close()

    def dashboard_view(self) -> Dashboard:
        self.sync_network(self._network_workers(), retry=True)
        if self.dashboard is None:
            self.dashboard = Dashboard()
        self.dashboard.show(self._dashboard_data())
        self._dashboard_dirty = False
        return self.dashboard

    def refresh(self) -> None:
        """Re-render every dirty view, each inside hold_sync (one message per view)."""
        if self._refreshing:
            return
        self._refreshing = True
        try:
            self._last_refresh = self._clock()
            retired, self._retired = self._retired, []
            for worker_id, view in retired:
                view.show(snapshot.gone_worker_snapshot(worker_id))
            dirty, self._dirty_workers = self._dirty_workers, set()
            for worker_id in dirty:
                view = self.worker_views.get(worker_id)
                if view is not None:
                    view.show(self._worker_snapshot(worker_id))
            snaps, self._pointer_snaps = self._pointer_snaps, {}
            for pid, snap in snaps.items():
                view = self.pointer_views.get(pid)
                if view is not None:
                    view.show(snap)
            for view in self.audit_views.values():
                view.drain(in_cell=True)
            if self.training is not None and self._training_dirty:
                self._training_dirty = False
                self.training.show(training.log.snapshot())
            if self.dashboard is not None and self._dashboard_dirty:
                self._dashboard_dirty = False
                self.dashboard.show(self._dashboard_data())
        finally:
            self._refreshing = False

    def audit_view(self, server: Any) -> AuditView:
        """The live view of a WorkerServer's audit log (one per server)."""
        view = self.audit_views.get(id(server))
        if view is None or view.closed or not view.serves(server):
            if view is not None:
                view.close()
            view = self.audit_views[id(server)] = AuditView(server, throttle=self.throttle)
        view.drain(in_cell=True)
        return view

    def after_cell(self) -> None:
        """Deliver pending deletes, notice direct edits of `bob._objects`, ask network workers
        on screen for their summary if it could have changed, refresh what changed."""
        for worker in all_workers():
            for location in list(worker._pending_deletes):
                if isinstance(location, NetworkWorker):
                    continue  # they ride along with its next request (a summary or the user's);
                    # a Ray actor is one call away: flushed like a virtual worker
                worker.flush_deletes(location)
        self.sync_network()
        sharing_now = (sharing.dealt_total(), registry.made_count())
        if sharing_now != self._sharing_seen:
            # shares are known once the shared tensor is made, after the store events
            self._sharing_seen = sharing_now
            self._dirty_workers.update(self.worker_views)
        for worker_id, view in self.worker_views.items():
            entry = self._watched.get(worker_id)
            if (entry is not None and not remote.is_network(entry[0])
                    and len(entry[0]._store.objects) != view.snapshot.get("count")):
                self._dirty_workers.add(worker_id)
        if self.dashboard is not None and not self._dashboard_dirty:
            try:
                self._dashboard_dirty = self._board_state() != self._board_key
            except Exception:  # an odd variable: redraw (the board skips what it cannot read)
                self._dashboard_dirty = True
        self.refresh()


__all__ = ["LiveViews", "DELETED"]
