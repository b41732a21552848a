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


@pytest.fixture
def charlie(hook):
    yield from _worker(hook, "charlie")


@pytest.fixture
def james(hook):
    yield from _worker(hook, "james")


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def live(bob):
    """Live views on a fake clock (their refresh throttle never waits in a test)."""
    from jupyter_syft.widgets import LiveViews

    views = LiveViews(throttle=0.25, clock=FakeClock())
    views.attach()
    yield views
    views.detach()
