"""A FedAvg round over a RayWorkerPool, dispatched to every actor at once.

The global parameters travel once (one Ray object every actor reads), the local step once per
actor (a plan's bytes, checked there as any worker checks a plan, or a Python function); each
actor trains its hosted workers' partitions and sends back one row-weighted sum per chunk of
workers; the notebook adds the sums and divides by the rows. Results are gathered as they
arrive (``ray.wait``), so progress (workers done, straggler time) is known while the round runs,
and ``block=False`` runs the round in a thread, leaving the kernel free.

A dead actor is reported with the workers it hosted; ``on_failure="skip"`` averages over the
others, ``on_failure="raise"`` raises RoundFailedError. ``timeout`` (s) bounds a round: actors
still busy then count as failed, by the same choice. Nothing waits forever.
"""
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

from .. import codec
from ..exceptions import SyftError


MIN_CHUNK = 64  # workers in one actor call of a round, at least (an actor call costs ~2 ms)


class RoundFailedError(SyftError):
    """A FedAvg round with on_failure="raise" lost an actor (or ran out of time)."""

    def __init__(self, message: str, failed: Dict[int, List[Any]]) -> None:
        super().__init__(message)
        self.failed = failed  # actor index -> the workers it hosted in this round


class Round:
    """One FedAvg round: its progress while it runs, its result afterwards."""

    def __init__(self, total_workers: int, actors: int) -> None:
        self.total_workers = total_workers
        self.actors = actors
        self.workers_done = 0
        self.rows = 0
        self.started = time.perf_counter()
        self.elapsed: Optional[float] = None
        self.host_finish: Dict[int, float] = {}  # actor -> seconds after the start
        self.worker_times: List[float] = []
        self.failed: Dict[int, List[Any]] = {}  # actor -> workers lost with it
        self.missing: List[Any] = []  # workers without a partition
        self.params: Optional[List[torch.Tensor]] = None
        self.error: Optional[BaseException] = None
        self._done = threading.Event()
        self._thread: Optional[threading.Thread] = None

    # --- progress ------------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self._done.is_set()

    @property
    def straggler_s(self) -> float:
        """Seconds between the first and the last actor finishing (so far)."""
        times = list(self.host_finish.values())
        return max(times) - min(times) if len(times) > 1 else 0.0

    def progress(self) -> dict:
        now = self.elapsed if self.elapsed is not None else time.perf_counter() - self.started
        return {"workers_done": self.workers_done, "workers": self.total_workers,
                "failed_workers": sum(len(w) for w in self.failed.values()),
                "dead_actors": sorted(self.failed), "elapsed_s": now, "straggler_s": self.straggler_s,
                "done": self.done}

    def __repr__(self) -> str:
        p = self.progress()
        state = "done" if p["done"] else "running"
        failed = f", {p['failed_workers']} failed (actors {p['dead_actors']})" if p["failed_workers"] else ""
        return (f"<FedAvg round {state}: {p['workers_done']}/{p['workers']} workers{failed}, "
                f"{p['elapsed_s']:.2f} s, straggler {p['straggler_s']:.2f} s>")

    def _repr_html_(self) -> str:
        from .view import round_html

        return round_html(self.progress())

    # --- the result ----------------------------------------------------------------------------
    def wait(self, timeout: Optional[float] = None) -> "Round":
        """Wait for the round (raises what the round raised)."""
        if not self._done.wait(timeout):
            raise TimeoutError(f"the round is still running after {timeout} s: {self!r}")
        if self.error is not None:
            raise self.error
        return self

    result = wait


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython

        return getattr(get_ipython(), "kernel", None) is not None
    except ImportError:
        return False


def _live_view(state: Round, then: Optional[Callable[[Round], None]]) -> Callable[[Round], None]:
    """Show the round's progress now and update that output as results arrive."""
    from IPython.display import HTML, display

    from .view import round_html

    handle = display(HTML(round_html(state.progress())), display_id=True)
    last = [0.0]

    def update(r: Round) -> None:
        now = time.monotonic()
        if r.done or now - last[0] >= 0.25:
            last[0] = now
            try:
                handle.update(HTML(round_html(r.progress())))
            except Exception:  # a view must never break a round
                pass
        if then is not None:
            then(r)
    return update


def histogram(times: Sequence[float], bins: int = 10) -> dict:
    if not times:
        return {"edges": [], "counts": []}
    low, high = min(times), max(times)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for t in times:
        counts[min(bins - 1, int((t - low) / width))] += 1
    return {"edges": [low + i * width for i in range(bins + 1)], "counts": counts}


def _spec(train: Any, epochs: int, batch_size: int) -> dict:
    from ..plans.plan import Plan

    if isinstance(train, Plan):
        if not train.is_built:
            raise RuntimeError("build the plan first (plan.build(data, target, *params))")
        return {"plan": train._record_for_sending().to_bytes(), "epochs": epochs, "batch_size": batch_size}
    if callable(train):
        return {"function": train, "epochs": epochs, "batch_size": batch_size}
    raise TypeError("train is a built plan or a function step(data, target, params)")


def fedavg_round(pool, model: Any, train: Any, workers: Optional[Sequence[Any]] = None, epochs: int = 1,
                 batch_size: int = 8, on_failure: str = "raise", timeout: Optional[float] = None,
                 block: bool = True, chunks_per_actor: int = 8,
                 progress: Optional[Callable[[Round], None]] = None, show: Optional[bool] = None) -> Round:
    """One round. ``model``: an nn.Module (updated in place with the average) or a list of
    tensors; ``train``: a built plan ``(data, target, *params)`` that updates the parameters in
    place, or a function ``step(data, target, params)``. ``workers``: ids (all by default).
    ``show`` (default: in a Jupyter kernel, when ``block=False``): a progress view in the cell's
    output, updated as results arrive (at most four times a second)."""
    if on_failure not in ("raise", "skip"):
        raise ValueError('on_failure is "raise" or "skip"')
    module = model if isinstance(model, torch.nn.Module) else None
    params = [p.detach().clone() for p in (module.parameters() if module is not None else model)]
    spec = _spec(train, epochs, batch_size)
    ids = list(workers) if workers is not None else pool.ids
    state = Round(len(ids), len(pool.actors))
    pool.rounds.append(state)
    del pool.rounds[:-20]
    if show if show is not None else (not block and _in_kernel()):
        progress = _live_view(state, progress)

    def run() -> None:
        try:
            _run(pool, state, spec, params, ids, on_failure, timeout, chunks_per_actor, progress)
            if module is not None:
                with torch.no_grad():
                    for p, new in zip(module.parameters(), state.params):
                        p.copy_(new)
        except BaseException as e:
            state.error = e
        finally:
            state.elapsed = time.perf_counter() - state.started
            state._done.set()
            if progress is not None:
                progress(state)

    if block:
        run()
        return state.wait()
    state._thread = threading.Thread(target=run, name="fedavg-round", daemon=True)
    state._thread.start()
    return state


def _run(pool, state: Round, spec: dict, params: List[torch.Tensor], ids: Sequence[Any], on_failure: str,
         timeout: Optional[float], chunks_per_actor: int, progress) -> None:
    ray = pool._ray
    per_host: Dict[int, List[Any]] = {}
    for worker_id in ids:
        per_host.setdefault(pool.host_of(worker_id), []).append(worker_id)
    for host in [h for h in per_host if h in pool.dead]:  # known dead before the round
        state.failed[host] = per_host.pop(host)
    global_ref = ray.put(codec.encode(params))
    spec_ref = ray.put(spec)
    pending: Dict[Any, tuple] = {}  # ref -> (host, workers of the chunk)
    left: Dict[int, int] = {}  # host -> chunks not yet back
    for host, workers in per_host.items():
        # a few calls per actor, for progress and stragglers; not one per handful of workers
        size = max(MIN_CHUNK, -(-len(workers) // chunks_per_actor))
        chunks = [workers[i:i + size] for i in range(0, len(workers), size)]
        left[host] = len(chunks)
        for chunk in chunks:
            pending[pool.actors[host].train.remote(spec_ref, global_ref, chunk)] = (host, chunk)
    sums = [torch.zeros_like(p, dtype=torch.float64) for p in params]
    deadline = None if timeout is None else time.monotonic() + timeout
    while pending:
        wait_s = None if deadline is None else max(0.0, deadline - time.monotonic())
        ready, _ = ray.wait(list(pending), num_returns=1, timeout=wait_s)
        if not ready:  # out of time: every actor still busy counts as failed
            for ref, (host, chunk) in pending.items():
                state.failed.setdefault(host, []).extend(chunk)
            late = sorted({h for h, _ in pending.values()})
            pending.clear()
            if on_failure == "raise":
                raise RoundFailedError(f"the round ran out of time ({timeout} s) waiting for actors {late}",
                                       state.failed)
            break
        ref = ready[0]
        host, chunk = pending.pop(ref)
        try:
            reply = ray.get(ref)
        except (ray.exceptions.RayActorError, ray.exceptions.ActorDiedError) as e:
            pool.dead[host] = type(e).__name__
            lost = [w for r, (h, c) in list(pending.items()) if h == host for w in c]
            for r in [r for r, (h, _) in pending.items() if h == host]:
                del pending[r]
            state.failed.setdefault(host, []).extend(chunk + lost)
            if on_failure == "raise":
                for r in pending:  # queued calls to the other actors are not run for nothing
                    try:
                        ray.cancel(r)
                    except Exception:
                        pass
                raise RoundFailedError(
                    f"Ray actor {host} died during the round ({type(e).__name__}); it hosted "
                    f"{len(state.failed[host])} of this round's workers: "
                    f"{', '.join(map(str, state.failed[host][:5]))}"
                    f"{' ...' if len(state.failed[host]) > 5 else ''}", state.failed) from None
            continue
        for acc, part in zip(sums, codec.decode(reply["sums"])):
            acc.add_(part)
        state.rows += reply["rows"]
        state.workers_done += reply["workers"]
        state.worker_times.extend(reply["times"])
        state.missing.extend(reply["missing"])
        left[host] -= 1
        if left[host] == 0:
            state.host_finish[host] = time.perf_counter() - state.started
        if progress is not None:
            progress(state)
    if state.rows == 0:
        raise RoundFailedError("no worker trained in this round (no partitions, or every actor failed)",
                               state.failed)
    state.params = [(s / state.rows).to(p.dtype) for s, p in zip(sums, params)]
