from .base import BaseWorker, all_workers, get_worker, remove_worker
from .virtual import VirtualWorker

__all__ = ["BaseWorker", "VirtualWorker", "all_workers", "get_worker", "remove_worker"]
