"""Federated data (Parts 06 and 07): ``BaseDataset``, ``dataset.federate((bob, alice))`` and
``FederatedDataset``. A dataset here is data and targets, local tensors or pointers; a federated
dataset is one such dataset per worker, each already on its worker."""
import math
from typing import Any, Dict, Iterable, List

import torch

from ..exceptions import WorkerNotFoundError
from ..pointers import PointerTensor


def _rows(t: Any) -> int:
    return t.shape[0] if isinstance(t, torch.Tensor) and t.dim() else len(t)


class BaseDataset:
    """``sy.BaseDataset(data, targets)``: inputs and labels kept together, as MNIST keeps them."""

    def __init__(self, data, targets, transform=None) -> None:
        if _rows(data) != _rows(targets):
            raise ValueError(f"data has {_rows(data)} rows but targets has {_rows(targets)}; "
                             "a dataset needs one target per data point")
        self.data, self.targets, self.transform_ = data, targets, transform

    def __len__(self) -> int:
        return _rows(self.data)

    def __getitem__(self, index):
        item = self.data[index]
        if self.transform_ is not None:
            item = self.transform_(item)
        return item, self.targets[index]

    @property
    def location(self):
        return getattr(self.data, "location", None)

    def send(self, worker) -> "BaseDataset":
        return BaseDataset(self.data.send(worker), self.targets.send(worker), self.transform_)

    def get(self) -> "BaseDataset":
        """Bring data and targets home; the dataset is changed in place and returned."""
        data = self.data.get()
        self.targets, self.data = self.targets.get(), data
        return self

    def federate(self, workers) -> "FederatedDataset":
        return federate(self, workers)

    def __repr__(self) -> str:
        return f"BaseDataset\n\tData: {self.data}\n\ttargets: {self.targets}"


def _check_workers(workers: Iterable[Any]) -> List[Any]:
    from ..workers import get_worker

    found = [get_worker(w) for w in workers]
    if not found:
        raise ValueError("federate needs at least one worker, like dataset.federate((bob, alice))")
    for w in found:
        if w._removed:
            raise WorkerNotFoundError(f"worker {w.id!r} was removed; nothing was sent")
        if w.is_client_worker:
            raise ValueError(f"{w.id} is a client worker and keeps no data")
    return found


def federate(dataset, workers) -> "FederatedDataset":
    """Split a dataset into len(workers) consecutive parts and send part i to worker i, data
    and targets each as one tensor (as PySyft did, which also loaded the whole dataset)."""
    workers = _check_workers(workers)
    n = len(dataset)
    if n == 0:
        raise ValueError("the dataset is empty: there is nothing to federate")
    size = math.ceil(n / len(workers))
    parts = []
    for i, start in enumerate(range(0, n, size)):
        if isinstance(dataset, BaseDataset) and not isinstance(dataset.data, PointerTensor):
            data, targets = dataset.data[start:start + size], dataset.targets[start:start + size]
        else:
            data, targets = torch.utils.data.default_collate(
                [dataset[j] for j in range(start, min(start + size, n))])
        worker = workers[i % len(workers)]
        parts.append(BaseDataset(data.send(worker), targets.send(worker)))
    return FederatedDataset(parts)


class FederatedDataset:
    """``sy.FederatedDataset([dataset on bob, dataset on alice, ...])``: one per worker."""

    def __init__(self, datasets: Iterable[BaseDataset]) -> None:
        self.datasets: Dict[Any, BaseDataset] = {}
        for dataset in datasets:
            location = dataset.location
            if location is None:
                raise ValueError("each dataset of a FederatedDataset must be on a worker: "
                                 "send it first, or use dataset.federate(workers)")
            if location.id in self.datasets:
                raise ValueError(f"two datasets are on {location.id}; give each worker one")
            if getattr(dataset.targets, "location", None) is not location:
                raise ValueError(f"the data is on {location.id} but the targets are not")
            self.datasets[location.id] = dataset

    @property
    def workers(self) -> List[Any]:
        return list(self.datasets)

    def __getitem__(self, worker_id) -> BaseDataset:
        return self.datasets[worker_id]

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets.values())

    def __repr__(self) -> str:
        return ("FederatedDataset\n"
                f"    Distributed accross: {', '.join(str(w) for w in self.workers)}\n"
                f"    Number of datapoints: {len(self)}\n")
