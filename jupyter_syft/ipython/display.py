"""Display formatters: a worker, a pointer or ``bob._objects`` shows its live view, while the
``text/plain`` part stays exactly PySyft 0.2.4's text (what nbval and terminals see). A network
worker's ``bob._objects`` (a dict made from its server's summary) shows the worker's live view
too; a WorkerServer (``sy.serve(...)``) shows its audit log, live."""
from typing import Any, Callable, Dict, List, Tuple

from ..pointers import PointerTensor
from ..store import ObjectsDict
from ..workers.base import BaseWorker, get_worker
from ..workers.server import WorkerServer
from ..widgets import LiveViews, remote
from .output_cache import CachedPointer


def _bundle(view, text: str) -> Dict[str, Any]:
    data = dict(view._repr_mimebundle_())
    data["text/plain"] = text
    return data


class Formatters:
    def __init__(self, shell, live: LiveViews) -> None:
        self.formatter = shell.display_formatter.mimebundle_formatter
        self.live = live
        self._installed: List[Tuple[type, Any]] = []
        self._register(BaseWorker, self._worker)
        self._register(PointerTensor, self._pointer)
        self._register(CachedPointer, self._cached_pointer)
        self._register(ObjectsDict, self._objects)
        self._register(WorkerServer, self._server)

    def _register(self, cls: type, printer: Callable) -> None:
        self._installed.append((cls, self.formatter.for_type(cls, self._guarded(printer))))

    @staticmethod
    def _guarded(printer: Callable) -> Callable:
        def show(obj, include=None, exclude=None):
            try:
                return printer(obj)
            except Exception:  # never break a cell's output: fall back to the plain text
                return None
        return show

    def _worker(self, worker: BaseWorker):
        return _bundle(self.live.worker_view(worker), repr(worker))

    def _pointer(self, ptr: PointerTensor):
        return _bundle(self.live.pointer_view(ptr), repr(ptr))

    def _cached_pointer(self, cached: CachedPointer):
        ptr = cached._ref()
        return self._pointer(ptr) if ptr is not None else None

    def _objects(self, objects: ObjectsDict):
        worker = get_worker(objects.worker_id)
        if worker._store.objects is not objects and not remote.is_network(worker):
            return None
        data = _bundle(self.live.worker_view(worker), "")
        del data["text/plain"]  # IPython pretty-prints the dict itself, as it did for PySyft's
        return data

    def _server(self, server: WorkerServer):
        text = f"<WorkerServer {server.worker_id} {server.address}>"
        return _bundle(self.live.audit_view(server), text)

    def remove(self) -> None:
        for cls, previous in self._installed:
            self.formatter.type_printers.pop(cls, None)
            if previous is not None:
                self.formatter.for_type(cls, previous)
        self._installed.clear()
