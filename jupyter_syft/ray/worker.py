"""RayHostedWorker: the notebook's handle on one logical worker that lives in a Ray actor.

It is used exactly as a virtual worker (``x.send(w)``, pointers, ``.get()``, plans): its
``recv_msg`` carries the request bytes to the actor hosting it (one actor call) and returns the
reply bytes, so the codec, the allow-list, the limits and the errors are every worker's.
"""
from typing import Any

from .. import codec
from ..exceptions import WorkerUnreachableError
from ..store import ObjectsDict
from ..workers.base import BaseWorker, collect_garbage


class RayHostedWorker(BaseWorker):
    # The views list its objects from its host's summary, as a network worker's (widgets/remote.py).
    objects_elsewhere = True

    def __init__(self, pool, id: Any, host: int, timeout: float = float("inf")) -> None:
        super().__init__(id, is_client_worker=False)
        self.pool, self.host = pool, host
        self.timeout = timeout  # seconds a request may take (no limit: a dead actor answers at once)

    @property
    def address(self) -> str:
        node = self.pool.where[self.host].get("node_id") or "?"
        return f"Ray actor {self.host}, node {node[:8]}"

    def __repr__(self) -> str:  # no remote call: a repr must not hang on a dead actor
        return f"<{type(self).__name__} id:{self.id} host:{self.host}>"

    def recv_msg(self, data: bytes) -> bytes:
        return self.pool._call(self.host, "recv", self.id, data, workers=[self.id], timeout=self.timeout)

    @property
    def _objects(self):
        """What the worker holds, by id (tensors), as PySyft printed ``bob._objects``. One call."""
        collect_garbage(self)
        import jupyter_syft

        jupyter_syft.local_worker.flush_deletes(self)
        objects = ObjectsDict()
        objects.worker_id = self.id
        for obj_id, value in codec.decode(self.pool._call(self.host, "objects", self.id, workers=[self.id])):
            objects[obj_id] = value
        return objects

    def search(self, query: Any):
        import jupyter_syft

        return jupyter_syft.local_worker.request_search(query, location=self)


def unreachable(pool, host: int, workers, error: BaseException) -> WorkerUnreachableError:
    shown = ", ".join(map(str, list(workers)[:5])) + (f" and {len(workers) - 5} more" if len(workers) > 5 else "")
    return WorkerUnreachableError(
        f"Ray actor {host} of the pool died ({type(error).__name__}); it hosted "
        f"{pool.hosted_count(host)} workers ({shown} among them); their objects are gone")
