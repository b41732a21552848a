"""What a federated training loop is doing, for views to follow (issue: "training you can
watch"): the FederatedDataLoader's progress, worker by worker, and the scalar losses that come
home with ``.get()``, per worker. Nothing is recorded while nobody listens, so a loop that no
view follows pays one list check per batch and per ``.get()``."""
from typing import Any, Callable, Dict, List

MAX_POINTS = 5_000  # losses kept per worker; older ones are thinned, never the newest

Listener = Callable[[], None]


class TrainingLog:
    def __init__(self) -> None:
        self.listeners: List[Listener] = []
        self.reset()

    def reset(self) -> None:
        self.epoch = 0
        self.progress: Dict[str, List[int]] = {}  # worker id -> [batches done, batches]
        self.losses: Dict[str, List[float]] = {}  # worker id -> losses in the order they came

    def subscribe(self, listener: Listener) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)

    def _notify(self) -> None:
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:  # a broken view must never break training
                pass

    def epoch_started(self, batches: Dict[Any, int]) -> None:
        self.epoch += 1
        self.progress = {str(w): [0, n] for w, n in batches.items()}
        self._notify()

    def batch(self, worker_id: Any) -> None:
        entry = self.progress.setdefault(str(worker_id), [0, 0])
        entry[0] += 1
        self._notify()

    def loss(self, worker_id: Any, value: float) -> None:
        points = self.losses.setdefault(str(worker_id), [])
        points.append(value)
        if len(points) > MAX_POINTS:
            del points[:MAX_POINTS // 2:2]  # thin the older half; memory stays bounded
        self._notify()

    def snapshot(self, points: int = 400) -> Dict[str, Any]:
        """What a view shows: progress, and at most `points` losses per worker (every k-th, and
        always the newest), with how many there are."""
        return {"epoch": self.epoch, "progress": {w: list(p) for w, p in self.progress.items()},
                "losses": {w: _thin(v, points) for w, v in self.losses.items()},
                "counts": {w: len(v) for w, v in self.losses.items()}}


def _thin(values: List[float], n: int) -> List[float]:
    if len(values) <= n:
        return list(values)
    step = len(values) / n
    return [values[int(i * step)] for i in range(n - 1)] + [values[-1]]


log = TrainingLog()
