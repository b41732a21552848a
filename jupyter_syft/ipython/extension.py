"""``%load_ext jupyter_syft``: the hook, the `syft` alias, live views, formatters, ``%syft`` and
the side panel's comm target.

Loading twice is a no-op; unloading removes every IPython hook, formatter, magic and widget (the
torch tensor API stays, since the user's pointers still need it). Hooks never print or raise.
"""
import logging

import torch

log = logging.getLogger("jupyter_syft")


class _Loaded:
    def __init__(self, shell) -> None:
        import jupyter_syft

        from .. import compat
        from ..widgets import LiveViews
        from .display import Formatters
        from .magics import SyftMagics
        from .namespace import user_variables
        from .output_cache import OutputCacheGuard
        from .panel import PanelChannel

        self.shell = shell
        if jupyter_syft.hook is None:
            jupyter_syft.TorchHook(torch)
        compat.install_syft_alias()
        self.live = LiveViews()
        self.live.variables = lambda: user_variables(shell)
        self.live.attach()
        self.formatters = Formatters(shell, self.live)
        self.cache_guard = OutputCacheGuard(shell)
        self.panel = PanelChannel(shell)
        self.live.on_store_change = self.panel.during_cell
        self.live.panel_open = lambda: bool(self.panel.comms)
        self.panel.before_snapshot = self.live.sync_network  # a panel opened or asked: once per cell
        self.magics = SyftMagics(shell, self.live)
        shell.register_magics(self.magics)
        shell.events.register("post_run_cell", self.post_run_cell)

    def post_run_cell(self, result=None) -> None:
        # one failing must not stop the others; the cell count moves on last (a network worker's
        # summary is asked at most once per cell)
        for refresh in (self.live.after_cell, self.panel.send, self.live.end_cell):
            try:
                refresh()
            except Exception:  # a view problem must never reach the user's cell
                log.debug("refreshing jupyter_syft views failed", exc_info=True)

    def unload(self) -> None:
        shell = self.shell
        shell.events.unregister("post_run_cell", self.post_run_cell)
        self.formatters.remove()
        self.cache_guard.remove()
        self.panel.close()
        shell.magics_manager.magics["line"].pop("syft", None)
        self.live.detach()


_loaded = None


def load_ipython_extension(shell) -> None:
    global _loaded
    if _loaded is None:
        _loaded = _Loaded(shell)
    # Part 06's `from torchvision import datasets, transforms`, where no torchvision is
    # installed (only in a kernel that loaded the extension: other libraries are not misled)
    from .. import compat

    compat.install_torchvision_stand_in()


def unload_ipython_extension(shell) -> None:
    global _loaded
    if _loaded is not None:
        _loaded.unload()
        _loaded = None


def loaded():
    """The live state of the extension, or None (for tests and tools)."""
    return _loaded
