"""Live views of workers and pointers (ipywidgets)."""
from .audit import AuditView
from .live import LiveViews
from .views import Dashboard, PointerView, WorkerView

__all__ = ["LiveViews", "WorkerView", "PointerView", "Dashboard", "AuditView"]
