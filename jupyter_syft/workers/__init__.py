from .base import BaseWorker, all_workers, get_worker, remove_worker
from .client import NetworkWorker
from .virtual import VirtualWorker

__all__ = ["BaseWorker", "VirtualWorker", "NetworkWorker", "all_workers", "get_worker", "remove_worker"]
