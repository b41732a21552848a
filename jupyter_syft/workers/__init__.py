from .base import BaseWorker, get_worker
from .virtual import VirtualWorker

__all__ = ["BaseWorker", "VirtualWorker", "get_worker"]
