"""Thousands of simulated workers on Ray (``pip install jupyter_syft[ray]``); see pool.py."""
from .fedavg import Round, RoundFailedError, fedavg_round
from .host import WorkerHost
from .pool import RayWorkerPool
from .worker import RayHostedWorker

__all__ = ["RayWorkerPool", "RayHostedWorker", "WorkerHost", "fedavg_round", "Round", "RoundFailedError"]
