"""``sy.FederatedDataLoader``: batches from a FederatedDataset, worker by worker.

Each batch is made on its worker by one message (``batch``: the rows of data and targets at
the sampled indices), where PySyft sent about two messages per sample. Batches stay on their
worker; the loop gets pointers.
"""
import logging
import math
from typing import Any, Iterator, List, Tuple

import torch

from .. import training
from .dataset import FederatedDataset



class FederatedDataLoader:
    def __init__(self, federated_dataset: FederatedDataset, batch_size: int = 8,
                 shuffle: bool = False, num_iterators: int = 1, drop_last: bool = False,
                 collate_fn=None, iter_per_worker: bool = False, **kwargs) -> None:
        if kwargs:
            options = ", ".join(f"{k}: {v}" for k, v in kwargs.items())
            # logging.warning, as PySyft: it prints "WARNING:root:..." where logging is unset
            logging.warning(f"The following options are not supported: {options}")
        if not isinstance(federated_dataset, FederatedDataset):
            raise TypeError("FederatedDataLoader takes a FederatedDataset (dataset.federate(...) "
                            "or sy.FederatedDataset([...])); use torch.utils.data.DataLoader "
                            "for a local dataset")
        if type(batch_size) is not int or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        if num_iterators != 1 or iter_per_worker or collate_fn is not None:
            raise NotImplementedError("FederatedDataLoader supports one worker at a time "
                                      "(num_iterators=1, iter_per_worker=False, its own collate)")
        self.federated_dataset = federated_dataset
        self.workers = federated_dataset.workers
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last

    def _batches(self, worker_id: Any) -> List[List[int]]:
        n = len(self.federated_dataset[worker_id])
        order = torch.randperm(n).tolist() if self.shuffle else list(range(n))
        batches = [order[i:i + self.batch_size] for i in range(0, n, self.batch_size)]
        if self.drop_last and batches and len(batches[-1]) < self.batch_size:
            batches.pop()
        return batches

    def _count(self, worker_id: Any) -> int:
        n = len(self.federated_dataset[worker_id])
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Tuple[Any, Any]]:
        import jupyter_syft

        owner = jupyter_syft.local_worker
        watch = training.log if training.log.listeners else None  # a view follows the loop
        if watch:
            watch.epoch_started({w: self._count(w) for w in self.workers})
        for worker_id in self.workers:
            dataset = self.federated_dataset[worker_id]
            for indices in self._batches(worker_id):  # shuffled when reached, as in PySyft
                batch = owner.make_batch(dataset.data, dataset.targets, indices)
                if watch:
                    watch.batch(worker_id)
                yield batch

    def __len__(self) -> int:
        # PySyft's count: all the data points over the batch size, not per worker
        length = len(self.federated_dataset) / self.batch_size
        return int(length) if self.drop_last else math.ceil(length)
