"""The Part 01 notebook in a real browser (Debian's chromium, driven by playwright): the inline
views and the "Syft" side panel show bob's objects at the right moments, in JupyterLab 4 and in
Notebook 7. Each test leaves a screenshot in artifacts/ at the repository root."""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import nbformat
import pytest
from playwright.sync_api import sync_playwright

ROOT = pathlib.Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
LOAD_HINT = "Run %load_ext jupyter_syft in this notebook to see its workers here."
TIMEOUT_MS = 90_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`jupyter lab` or `jupyter notebook` on 127.0.0.1 in a scratch directory; stopped by PID."""

    def __init__(self, app: str, tmp: pathlib.Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        root = tmp / "root"
        root.mkdir()
        nb = nbformat.read(ROOT / "notebooks" / "part01-basic-tools-en.ipynb", as_version=4)
        for cell in nb.cells:  # start clean, as a learner would after "Clear all outputs"
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, root / "part01.ipynb")
        other = nbformat.v4.new_notebook(metadata={"kernelspec": nb.metadata["kernelspec"]})
        nbformat.write(other, root / "other.ipynb")
        settings = tmp / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"),
               "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces"),
               "JUPYTER_RUNTIME_DIR": str(tmp / "runtime")}
        app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
        self.log = open(tmp / f"{app}.log", "w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter", app, "--allow-root", "--no-browser",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
             "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={root}",
             f"--{app_class}.expose_app_in_browser=True"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/api/status", timeout=2)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"jupyter {app} did not start; see {self.log.name}")
                time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture
def browser_page():
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed for the browser tests (apt-get install chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 768})
        page.set_default_timeout(TIMEOUT_MS)
        yield page
        browser.close()


RUN_CELL = """async (source) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  const index = notebook.widgets.findIndex((cell, i) => i >= notebook.activeCellIndex
      && cell.model.type === 'code' && cell.model.sharedModel.getSource() === source);
  if (index < 0) throw new Error('no cell ' + source);
  notebook.activeCellIndex = index;
  await window.jupyterapp.commands.execute('notebook:run-cell');
  return index;
}"""

KERNEL_IDLE = """() => {
  const widget = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = widget && widget.sessionContext && widget.sessionContext.session
      && widget.sessionContext.session.kernel;
  return !!kernel && kernel.status === 'idle';
}"""


def run_notebook_and_check(page, url: str, open_panel_js: str, shot: str) -> None:
    page.goto(url)
    page.wait_for_function(KERNEL_IDLE)
    page.evaluate(open_panel_js)
    panel = page.locator("#jupyter-syft-panel")
    status = panel.locator(".jsyft-panel-status")
    status.filter(has_text=LOAD_HINT).wait_for()  # before %load_ext the panel says how

    def run(source: str):
        index = page.evaluate(RUN_CELL, source)
        page.wait_for_function(KERNEL_IDLE)
        return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output")

    def panel_objects():
        rows = panel.locator('.jsyft-panel-worker[data-worker-id="bob"] tr.jsyft-panel-object')
        return {rows.nth(i).get_attribute("data-object-id"): rows.nth(i).locator(".jsyft-value").inner_text()
                for i in range(rows.count())}

    run("%load_ext jupyter_syft")
    cells = page.evaluate("""() => window.jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code').map(c => c.model.sharedModel.getSource())""")
    for source in cells[1:5]:  # imports and hook, print(y), bob, x and y
        run(source)
    panel.locator('.jsyft-panel-worker[data-worker-id="bob"]').wait_for()
    run("x_ptr = x.send(bob)\ny_ptr = y.send(bob)")
    x_view = run("x_ptr")
    x_text = x_view.locator(".jsyft").inner_text()
    match = re.search(r"me:(\d+) → bob:(\d+)", x_text)
    assert match and "live" in x_text, x_text
    x_remote = match.group(2)

    objects_view = run("bob._objects")
    inline_ids = objects_view.locator(".jsyft table tr td:first-child").all_inner_texts()
    assert len(inline_ids) == 2 and inline_ids[0] == x_remote
    page.wait_for_function("""(ids) => {
        const rows = document.querySelectorAll('#jupyter-syft-panel .jsyft-panel-worker[data-worker-id="bob"] tr.jsyft-panel-object');
        return rows.length === ids.length && ids.every((id, i) => rows[i].dataset.objectId === id);
    }""", arg=inline_ids)
    assert list(panel_objects().values()) == ["[1, 2, 3, 4, 5]", "[1, 1, 1, 1, 1]"]
    pointer_names = panel.locator("li.jsyft-panel-pointer").evaluate_all("els => els.map(e => e.dataset.pointerName)")
    assert {"x_ptr", "y_ptr"} <= set(pointer_names)

    run("z = x_ptr + x_ptr")
    page.wait_for_function("""() => document.querySelectorAll('#jupyter-syft-panel .jsyft-panel-worker[data-worker-id="bob"] tr.jsyft-panel-object').length === 3""")
    assert "[2, 4, 6, 8, 10]" in panel_objects().values()
    page.screenshot(path=str(ARTIFACTS / f"{shot}-three-objects.png"))

    for source in ("x_ptr.get()", "y_ptr.get()", "z.get()"):
        run(source)
    empty_view = run("bob._objects")
    assert "(empty)" in empty_view.locator(".jsyft").inner_text()
    # the live views drawn earlier followed: bob's first view is empty now, x_ptr's says fetched
    objects_view.locator(".jsyft", has_text="(empty)").wait_for()
    x_view.locator(".jsyft", has_text="fetched").wait_for()
    page.wait_for_function("""() => {
        const w = document.querySelector('#jupyter-syft-panel .jsyft-panel-worker[data-worker-id="bob"]');
        return w && w.querySelectorAll('tr.jsyft-panel-object').length === 0 && w.textContent.includes('(empty)');
    }""")
    assert panel_objects() == {}
    fetched = panel.locator('li.jsyft-panel-pointer[data-pointer-name="x_ptr"]')
    fetched.locator(".jsyft-state", has_text="fetched").wait_for()
    assert "jsyft-panel-pointer-done" in fetched.get_attribute("class")  # drawn struck through
    page.screenshot(path=str(ARTIFACTS / f"{shot}-after-gets.png"))

    for source in cells[cells.index("bob._objects", 20) + 1:]:  # the rest: pointers, autograd
        run(source)
    page.wait_for_function("""() => document.querySelectorAll('#jupyter-syft-panel .jsyft-panel-worker[data-worker-id="bob"] tr.jsyft-panel-object').length === 2""")
    page.screenshot(path=str(ARTIFACTS / f"{shot}-end.png"))

    # The kernel keeps a channel for the panel only while the panel is shown.
    assert panel_channels(page) == 1
    page.evaluate("window.jupyterapp.shell.collapseRight()")
    page.wait_for_function("() => !document.querySelector('#jupyter-syft-panel').checkVisibility()")
    deadline = time.monotonic() + 10
    while panel_channels(page) != 0:
        assert time.monotonic() < deadline, "the hidden panel kept its channel open"
        time.sleep(0.2)


PANEL_CHANNELS = """async () => {
  const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
  const future = kernel.requestExecute({silent: false, store_history: false,
      code: 'from jupyter_syft.ipython.extension import loaded; print(len(loaded().panel.comms))'});
  let out = '';
  future.onIOPub = (msg) => { if (msg.header.msg_type === 'stream') out += msg.content.text; };
  await future.done;
  return out.trim();
}"""


def panel_channels(page) -> int:
    """How many side-panel channels the notebook's kernel has open (asked without a cell)."""
    return int(page.evaluate(PANEL_CHANNELS))


def test_jupyterlab_inline_views_and_panel(browser_page, tmp_path):
    server = Server("lab", tmp_path)
    try:
        run_notebook_and_check(browser_page, f"{server.url}/lab/tree/part01.ipynb",
                               "window.jupyterapp.shell.activateById('jupyter-syft-panel')", "lab")
    finally:
        server.stop()


def test_jupyterlab_panel_follows_notebook_switch_and_restart(browser_page, tmp_path):
    server = Server("lab", tmp_path)
    page = browser_page
    try:
        page.goto(f"{server.url}/lab/tree/part01.ipynb")
        page.wait_for_function(KERNEL_IDLE)
        page.evaluate("window.jupyterapp.shell.activateById('jupyter-syft-panel')")
        panel = page.locator("#jupyter-syft-panel")
        page.evaluate(RUN_CELL, "%load_ext jupyter_syft")
        page.evaluate("""async () => {
            const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
            await kernel.requestExecute({code: "import torch, syft as sy\\nh = sy.TorchHook(torch)\\n"
                + "bob = sy.VirtualWorker(h, id='bob')\\np = torch.tensor([7]).send(bob)"}).done; }""")
        bob = panel.locator('.jsyft-panel-worker[data-worker-id="bob"] tr.jsyft-panel-object')
        bob.first.wait_for()

        # another notebook, whose kernel has not loaded the extension: the panel says so
        page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:open', {path: 'other.ipynb'}); }")
        panel.locator(".jsyft-panel-status", has_text=LOAD_HINT).wait_for()
        page.wait_for_function(KERNEL_IDLE)
        # back to the first one: bob again
        page.evaluate("async () => { await window.jupyterapp.commands.execute('docmanager:open', {path: 'part01.ipynb'}); }")
        bob.first.wait_for()
        assert bob.first.locator(".jsyft-value").inner_text() == "[7]"

        # a restart: the new kernel has no extension until %load_ext runs again
        page.evaluate("async () => { await window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart(); }")
        panel.locator(".jsyft-panel-status", has_text=LOAD_HINT).wait_for()
        page.wait_for_function(KERNEL_IDLE)
        page.evaluate(RUN_CELL, "%load_ext jupyter_syft")
        panel.locator(".jsyft-panel-status", has_text="Kernel:").wait_for()
        assert bob.count() == 0
        page.screenshot(path=str(ARTIFACTS / "lab-after-restart.png"))
    finally:
        server.stop()


def test_labextension_is_installed_and_enabled():
    listed = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                            capture_output=True, text=True, timeout=120)
    line = next((l for l in (listed.stdout + listed.stderr).splitlines() if "jupyter-syft-panel" in l), "")
    assert "enabled" in line and "OK" in line, listed.stdout + listed.stderr


def test_notebook7_inline_views_and_panel(browser_page, tmp_path):
    server = Server("notebook", tmp_path)
    try:
        run_notebook_and_check(browser_page, f"{server.url}/notebooks/part01.ipynb",
                               "window.jupyterapp.shell.expandRight(); "
                               "window.jupyterapp.shell.activateById('jupyter-syft-panel')", "notebook7")
    finally:
        server.stop()
