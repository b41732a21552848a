"""Live views of workers and pointers (ipywidgets)."""
from .live import LiveViews
from .views import Dashboard, PointerView, WorkerView

__all__ = ["LiveViews", "WorkerView", "PointerView", "Dashboard"]
