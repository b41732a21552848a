"""``from syft.federated.floptimizer import Optims`` (Part 02): one optimizer per worker.

Each worker's optimizer is a shallow copy of the given one that updates the same Parameter
objects but keeps state of its own, so Adam's moments for bob never mix with alice's.
"""
import copy
from typing import Any, Dict, Iterable

from torch.optim import Optimizer


class Optims:
    def __init__(self, workers: Iterable[Any], optim: Optimizer) -> None:
        self.optim = optim
        self.workers = list(workers)
        self.optimizers: Dict[str, Optimizer] = {}
        for worker in self.workers:
            twin = copy.copy(optim)
            twin.load_state_dict(optim.state_dict())  # gives the twin its own state and groups
            self.optimizers[_key(worker)] = twin

    def get_optim(self, worker: Any) -> Optimizer:
        """The optimizer for a worker id (or a worker: its id is used)."""
        key = _key(worker)
        try:
            return self.optimizers[key]
        except KeyError:
            raise KeyError(f"no optimizer for worker {key!r}; Optims knows {list(self.optimizers)}") from None

    def count(self) -> int:
        return len(self.workers)


def _key(worker: Any) -> str:
    """A worker or its id, as the key PySyft used: the id's text."""
    return str(getattr(worker, "id", worker))
