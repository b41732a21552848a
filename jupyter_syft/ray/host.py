"""WorkerHost: one Ray actor holding many logical workers, each a store of its own.

A host is a plain class (wrapped with ``ray.remote`` by the pool), so it also runs in-process for
the sequential reference in tests. Its workers are ordinary ``VirtualWorker`` objects living in
the actor's process: a request reaches one as bytes (``recv``), goes through the same codec,
allow-list and limits as a request to any other worker, and its reply goes back as bytes.
A worker costs its store, not a process.
"""
import os
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch

from .. import codec, commands, tags

# A partition's tensors are tagged so tutorial code finds them with worker.search("#data").
DEFAULT_TAGS = ("#data", "#target")


class WorkerHost:
    def __init__(self, host_index: int, threads: int = 1) -> None:
        torch.set_num_threads(threads)
        import jupyter_syft as sy

        self.hook = sy.TorchHook(torch)
        self.index = host_index
        self.workers: Dict[Any, Any] = {}
        self.partitions: Dict[Any, List[int]] = {}  # worker id -> ids of its partition's tensors
        self.rows: Dict[Any, int] = {}  # worker id -> rows in its partition (FedAvg's weight)

    # --- who and where ---------------------------------------------------------------------
    def where(self) -> dict:
        node = None
        try:
            import ray

            node = ray.get_runtime_context().get_node_id()
        except Exception:
            pass
        return {"host": self.index, "pid": os.getpid(), "node_id": node}

    def add_workers(self, ids: Sequence[Any]) -> int:
        from ..workers.base import _WORKERS

        for worker_id in ids:
            if worker_id not in self.workers:
                worker = _hosted_worker_class()(self.hook, id=worker_id)
                self.workers[worker_id] = worker
        # the host serves requests itself: the worker registry only helps pointer chains between
        # this host's own workers
        return len(_WORKERS)

    def remove_workers(self, ids: Sequence[Any]) -> None:
        from ..workers.base import remove_worker

        for worker_id in ids:
            worker = self.workers.pop(worker_id, None)
            self.partitions.pop(worker_id, None)
            self.rows.pop(worker_id, None)
            if worker is not None:
                remove_worker(worker)

    # --- serving: bytes in, bytes out --------------------------------------------------------
    def recv(self, worker_id: Any, data: bytes) -> bytes:
        worker = self.workers.get(worker_id)
        if worker is None:
            return codec.encode_error_reply(
                "WorkerNotFoundError", f"there is no worker with id {worker_id!r} on this host")
        return worker.recv_msg(data)

    def objects(self, worker_id: Any) -> bytes:
        """A worker's objects, tensors only, as codec bytes of [[id, tensor], ...]."""
        worker = self.workers[worker_id]
        return codec.encode([[k, v] for k, v in worker._objects.items() if isinstance(v, torch.Tensor)])

    # --- data where it belongs ---------------------------------------------------------------
    def partition(self, fn: Callable, items: Sequence[Tuple[Any, int]],
                  labels: Optional[Sequence[str]] = None) -> int:
        """Run fn(index) here for each (worker id, index) and keep its tensors on that worker,
        tagged; returns the number of rows kept (the first tensor's first dimension)."""
        rows = 0
        for worker_id, index in items:
            worker = self.workers[worker_id]
            produced = fn(index)
            tensors = list(produced) if isinstance(produced, (tuple, list)) else [produced]
            names = list(labels) if labels is not None else (
                list(DEFAULT_TAGS) if len(tensors) == 2 else [f"#part{i}" for i in range(len(tensors))])
            if len(names) != len(tensors):
                raise ValueError(f"the partition function gave {len(tensors)} tensors for {len(names)} tags")
            worker._store.discard(self.partitions.get(worker_id, []))
            ids = []
            for tensor, name in zip(tensors, names):
                if not isinstance(tensor, torch.Tensor):
                    raise TypeError(f"the partition function gave a {type(tensor).__name__}, not a tensor")
                tensor = tensor.detach().contiguous()
                tags.set_tags(tensor, [name], None)
                obj_id = worker._fresh_id()
                worker._store.set(obj_id, tensor)
                ids.append(obj_id)
            self.partitions[worker_id] = ids
            worker.partition_ids = set(ids)
            self.rows[worker_id] = int(tensors[0].shape[0]) if tensors[0].dim() else 1
            rows += self.rows[worker_id]
        return rows

    # --- a FedAvg round's share of the work ---------------------------------------------------
    def train(self, spec: dict, global_bytes: bytes, worker_ids: Sequence[Any]) -> dict:
        """Train each worker's partition from the global parameters and return the row-weighted
        sum of the trained parameters, the rows, and each worker's time (s)."""
        params0 = codec.decode(global_bytes)
        step = _make_step(spec)
        epochs, batch = spec["epochs"], spec["batch_size"]
        # sums of up to thousands of weighted models: in float64, so the order of the terms
        # (which differs from a sequential loop's) does not show in a float32 average
        sums = [torch.zeros_like(p, dtype=torch.float64) for p in params0]
        rows_total, times, missing = 0, [], []
        for worker_id in worker_ids:
            start = time.perf_counter()
            worker = self.workers.get(worker_id)
            ids = self.partitions.get(worker_id)
            objects = worker._store.objects if worker is not None else {}
            if not ids or any(i not in objects for i in ids[:2]):  # never made, or deleted since
                missing.append(worker_id)
                continue
            data, target = objects[ids[0]], objects[ids[1]]
            n = self.rows[worker_id]
            params = [p.clone().requires_grad_() for p in params0]
            previous = commands.serving(worker)  # the worker's limits and generator apply
            try:
                for _ in range(epochs):
                    for s in range(0, n, batch):
                        step(data[s:s + batch], target[s:s + batch], params)
            finally:
                commands.done_serving(previous)
            with torch.no_grad():
                for acc, p in zip(sums, params):
                    acc.add_(p, alpha=n)
            worker.traffic["messages"] += 1
            rows_total += n
            times.append(time.perf_counter() - start)
        return {"sums": codec.encode(sums), "rows": rows_total, "times": times,
                "workers": len(times), "missing": missing, "host": self.index}

    # --- what the views show -------------------------------------------------------------------
    def summary(self) -> dict:
        """Per worker: [id, objects, bytes held, messages, bytes in, bytes out]."""
        rows = []
        for worker_id, worker in self.workers.items():
            objects = worker._store.objects
            held = sum(v.element_size() * v.numel() for v in objects.values() if isinstance(v, torch.Tensor))
            t = worker.traffic
            rows.append([worker_id, len(objects), held, t["messages"], t["bytes_in"], t["bytes_out"]])
        return {"host": self.index, "pid": os.getpid(), "workers": rows}


_HOSTED = None


def _hosted_worker_class():
    """A virtual worker that also answers "summary" (its objects described, small ones with their
    values), as a network server's client namespace does: the notebook's views list it that way."""
    global _HOSTED
    if _HOSTED is None:
        from ..workers.namespace import ClientNamespace
        from ..workers.virtual import VirtualWorker

        class HostedWorker(VirtualWorker):
            SUMMARY_VALUES_UP_TO = ClientNamespace.SUMMARY_VALUES_UP_TO
            _on_summary = ClientNamespace._on_summary

            def __init__(self, hook=None, id: Any = 0) -> None:
                super().__init__(hook, id=id)
                self.partition_ids = set()  # made here by pool.partition: the data owner's
                self._handlers["summary"] = self._on_summary

            def is_private(self, obj_id: Any) -> bool:
                """A partition is this worker's own data: listed without its values, and
                %syft reset leaves it (it is not the notebook's to delete)."""
                return obj_id in self.partition_ids

        _HOSTED = HostedWorker
    return _HOSTED


def _make_step(spec: dict) -> Callable:
    """The local step: a plan (its bytes, checked here as any worker checks a plan it is sent),
    or a Python function step(data, target, params) that updates params in place."""
    if spec.get("plan") is not None:
        from ..plans import execute
        from ..plans.validate import read_plan

        record = read_plan(spec["plan"])

        def step(data, target, params):
            execute.run(record, [data, target, *params])
        return step
    return spec["function"]
