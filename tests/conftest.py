import pytest
import torch

import jupyter_syft as sy
from jupyter_syft.workers import remove_worker


@pytest.fixture
def hook():
    return sy.TorchHook(torch)


def _worker(hook, name):
    worker = sy.VirtualWorker(hook, id=name)
    worker._objects.clear()  # a fresh store even if an earlier test left this id behind
    yield worker
    remove_worker(worker)


@pytest.fixture
def bob(hook):
    yield from _worker(hook, "bob")


@pytest.fixture
def alice(hook):
    yield from _worker(hook, "alice")


@pytest.fixture
def carol(hook):
    yield from _worker(hook, "carol")


@pytest.fixture
def secure_worker(hook):
    yield from _worker(hook, "secure_worker")
