"""RayWorkerPool: thousands of logical workers in a few Ray actors.

    import jupyter_syft as sy
    from jupyter_syft.ray import RayWorkerPool
    pool = RayWorkerPool(10_000)                  # ray.init() here, or address="ray://..." / "auto"
    pool.partition(make_rows)                     # make_rows(i) runs on the actor hosting worker-i
    w = pool["worker-7"]                          # a RayHostedWorker: x.send(w), pointers, plans
    result = pool.fedavg(model, plan)             # one FedAvg round over every worker

The pool starts one actor (a ``WorkerHost``) per CPU of the cluster, unless told ``actors=``;
worker i lives on actor i % actors. A worker costs its store in that actor, not a process.
Handles on the notebook's side (``pool[i]``) are made when first asked for.
"""
import threading
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from ..exceptions import WorkerNotFoundError, WorkerUnreachableError
from .host import WorkerHost
from .worker import RayHostedWorker, unreachable


class RayWorkerPool:
    def __init__(self, n_workers: int = 0, actors: Optional[int] = None, address: Optional[str] = None,
                 prefix: str = "worker-", ids: Optional[Sequence[Any]] = None, threads: int = 1,
                 init_kwargs: Optional[dict] = None, spread: bool = True) -> None:
        import ray

        self._ray = ray
        if not ray.is_initialized():
            kwargs = dict(init_kwargs or {})
            if address is not None:
                kwargs["address"] = address
            kwargs.setdefault("include_dashboard", False)
            kwargs.setdefault("log_to_driver", False)
            ray.init(**kwargs)
        if actors is None:
            actors = max(1, int(ray.cluster_resources().get("CPU", 1)))
        options: Dict[str, Any] = {"num_cpus": 1, "max_restarts": 0, "max_task_retries": 0}
        if spread:
            options["scheduling_strategy"] = "SPREAD"
        remote_host = ray.remote(WorkerHost).options(**options)
        self.actors = [remote_host.remote(i, threads) for i in range(actors)]
        self.dead: Dict[int, str] = {}  # actor index -> why it is considered dead
        self._ids: List[Any] = []
        self._host_of: Dict[Any, int] = {}
        self._index_of: Dict[Any, int] = {}
        self._handles: Dict[Any, RayHostedWorker] = {}
        self._lock = threading.Lock()
        self.rounds: List[Any] = []  # RoundResult of each round, for the views
        self.where = ray.get([a.where.remote() for a in self.actors])
        self.add_workers(list(ids) if ids is not None else [f"{prefix}{i}" for i in range(n_workers)])

    # --- workers ---------------------------------------------------------------------------
    def add_workers(self, ids: Sequence[Any]) -> None:
        per_host: Dict[int, List[Any]] = {}
        for worker_id in ids:
            if worker_id in self._host_of:
                continue
            index = len(self._ids)
            host = index % len(self.actors)
            self._ids.append(worker_id)
            self._host_of[worker_id] = host
            self._index_of[worker_id] = index
            per_host.setdefault(host, []).append(worker_id)
        self._gather({h: ("add_workers", (batch,)) for h, batch in per_host.items()})

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> List[Any]:
        return list(self._ids)

    def host_of(self, worker: Union[Any, RayHostedWorker]) -> int:
        return self._host_of[worker.id if isinstance(worker, RayHostedWorker) else worker]

    def hosted(self, host: int) -> List[Any]:
        return [w for w in self._ids if self._host_of[w] == host]

    def hosted_count(self, host: int) -> int:
        return sum(1 for w in self._ids if self._host_of[w] == host)

    def node_of(self, worker: Any) -> str:
        """The Ray node id of the actor hosting ``worker``."""
        return self.where[self.host_of(worker)]["node_id"]

    def __getitem__(self, key: Union[int, Any]) -> RayHostedWorker:
        worker_id = self._ids[key] if type(key) is int and key not in self._host_of else key
        handle = self._handles.get(worker_id)
        if handle is None:
            if worker_id not in self._host_of:
                raise WorkerNotFoundError(f"there is no worker with id {worker_id!r} in this pool")
            handle = self._handles[worker_id] = RayHostedWorker(self, worker_id, self._host_of[worker_id])
        return handle

    def worker(self, key: Union[int, Any]) -> RayHostedWorker:
        return self[key]

    # --- calls to actors ---------------------------------------------------------------------
    def _call(self, host: int, method: str, *args: Any, workers: Sequence[Any] = (),
              timeout: Optional[float] = None) -> Any:
        if host in self.dead:
            raise WorkerUnreachableError(
                f"Ray actor {host} of the pool is dead ({self.dead[host]}); it hosted "
                f"{self.hosted_count(host)} workers, {', '.join(map(str, workers))} among them")
        try:
            wait = None if timeout is None or timeout == float("inf") else timeout
            return self._ray.get(getattr(self.actors[host], method).remote(*args), timeout=wait)
        except self._ray.exceptions.GetTimeoutError:
            raise WorkerUnreachableError(
                f"{', '.join(map(str, workers))} on Ray actor {host} did not answer within {timeout:g} s; "
                "the request may or may not have run there") from None
        except self._ray.exceptions.RayActorError as e:
            self.dead[host] = type(e).__name__
            raise unreachable(self, host, workers or self.hosted(host)[:5], e) from None

    def _gather(self, calls: Dict[int, tuple]) -> Dict[int, Any]:
        refs = {h: getattr(self.actors[h], m).remote(*args) for h, (m, args) in calls.items()}
        return {h: self._ray.get(ref) for h, ref in refs.items()}

    def partition(self, fn: Callable[[int], Any], tags: Optional[Sequence[str]] = None) -> int:
        """Run ``fn(i)`` on the actor hosting the i-th worker, for every worker, and keep the
        tensors it returns there (tagged "#data", "#target" for a pair). Returns the rows kept.
        ``fn`` travels once per actor; no partition passes through the notebook."""
        per_host: Dict[int, list] = {}
        for worker_id in self._ids:
            per_host.setdefault(self._host_of[worker_id], []).append((worker_id, self._index_of[worker_id]))
        return sum(self._gather({h: ("partition", (fn, items, tags)) for h, items in per_host.items()}).values())

    # --- rounds ------------------------------------------------------------------------------
    def fedavg(self, model, train, **kwargs):
        """One FedAvg round; see ``jupyter_syft.ray.fedavg.fedavg_round``."""
        from .fedavg import fedavg_round

        return fedavg_round(self, model, train, **kwargs)

    # --- views -------------------------------------------------------------------------------
    def summary(self) -> dict:
        """Counts for views of thousands of workers: workers per actor and node, objects, bytes,
        messages, and a histogram of the last round's worker times."""
        from .fedavg import histogram

        refs = {h: a.summary.remote() for h, a in enumerate(self.actors) if h not in self.dead}
        hosts = []
        totals = {"workers": 0, "objects": 0, "bytes": 0, "messages": 0}
        for h, ref in refs.items():
            try:
                s = self._ray.get(ref)
            except self._ray.exceptions.RayActorError as e:
                self.dead[h] = type(e).__name__
                continue
            rows = s["workers"]
            entry = {"host": h, "node_id": self.where[h]["node_id"], "pid": s["pid"], "workers": len(rows),
                     "objects": sum(r[1] for r in rows), "bytes": sum(r[2] for r in rows),
                     "messages": sum(r[3] for r in rows)}
            hosts.append(entry)
            for k in totals:
                totals[k] += entry[k]
        last = self.rounds[-1] if self.rounds else None
        return {"actors": len(self.actors), "dead_actors": dict(self.dead), **totals, "hosts": hosts,
                "nodes": len({h["node_id"] for h in hosts}),
                "round_times": histogram(last.worker_times) if last is not None else None}

    def worker_summary(self, worker: Any) -> dict:
        """One worker drilled into: its actor, node, objects, bytes and traffic."""
        host = self.host_of(worker)
        worker_id = worker.id if isinstance(worker, RayHostedWorker) else worker
        rows = self._call(host, "summary", workers=[worker_id])["workers"]
        row = next(r for r in rows if r[0] == worker_id)
        return {"id": worker_id, "host": host, "node_id": self.where[host]["node_id"], "objects": row[1],
                "bytes": row[2], "messages": row[3], "bytes_in": row[4], "bytes_out": row[5]}

    def _repr_html_(self) -> str:
        from .view import pool_html

        return pool_html(self.summary())

    def show(self, worker: Any = None):
        """The pool's summary, or one worker drilled into (``pool.show("worker-7")``)."""
        from .view import HTML, pool_html, worker_html

        if worker is None:
            return HTML(pool_html(self.summary()), repr(self))
        info = self.worker_summary(worker)
        return HTML(worker_html(info, self[info["id"]]._objects),
                    f"<RayHostedWorker id:{info['id']} host:{info['host']} #objects:{info['objects']}>")

    def __repr__(self) -> str:
        return f"<RayWorkerPool workers:{len(self._ids)} actors:{len(self.actors)} dead:{len(self.dead)}>"

    # --- shutting down -------------------------------------------------------------------------
    def close(self, shutdown: bool = False) -> None:
        """Kill this pool's actors (their workers go with them); ``shutdown=True`` also stops
        Ray in this process."""
        from ..workers.base import remove_worker

        for handle in self._handles.values():
            remove_worker(handle)
        self._handles.clear()
        for actor in self.actors:
            try:
                self._ray.kill(actor)
            except Exception:
                pass
        if shutdown:
            self._ray.shutdown()

    def __enter__(self) -> "RayWorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
