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
    assert "left via .get(): nothing" in panel.locator('.jsyft-panel-worker[data-worker-id="bob"] .jsyft-panel-traffic').inner_text()
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
    variable_names = panel.locator("li.jsyft-panel-variable").evaluate_all("els => els.map(e => e.dataset.variableName)")
    assert {"x_ptr", "y_ptr"} <= set(variable_names)
    x_hop = panel.locator('li.jsyft-panel-variable[data-variable-name="x_ptr"] .jsyft-panel-hop')
    assert x_hop.get_attribute("data-object-id") == x_remote and "[1, 2, 3, 4, 5]" in x_hop.inner_text()

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
    fetched = panel.locator('li.jsyft-panel-variable[data-variable-name="x_ptr"]')
    fetched.locator(".jsyft-state", has_text="fetched").wait_for()
    assert "jsyft-panel-variable-done" in fetched.get_attribute("class")
    assert fetched.locator(".jsyft-panel-hop-done").count() == 1  # its target drawn struck through
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


# Part 03's chain, then Part 04's training with a trusted aggregator, with `%syft` shown.
DASHBOARD_CELLS = [
    "%load_ext jupyter_syft",
    "import torch\nimport syft as sy\nfrom torch import nn, optim\nhook = sy.TorchHook(torch)\n"
    "torch.manual_seed(0)\nbob = sy.VirtualWorker(hook, id='bob')\nalice = sy.VirtualWorker(hook, id='alice')",
    "x_ptr = torch.tensor([1, 2, 3, 4]).send(bob)\npointer_to_x_ptr = x_ptr.send(alice)",
    "%syft",
    "x_ptr = pointer_to_x_ptr.get()\nx = x_ptr.get()",
    "secure_worker = sy.VirtualWorker(hook, id='secure_worker')\n"
    "data = torch.tensor([[0, 0], [0, 1], [1, 0], [1, 1.]], requires_grad=True)\n"
    "target = torch.tensor([[0], [0], [1], [1.]], requires_grad=True)\n"
    "bobs_data = data[0:2].send(bob)\nbobs_target = target[0:2].send(bob)\n"
    "alices_data = data[2:].send(alice)\nalices_target = target[2:].send(alice)\n"
    "model = nn.Linear(2, 1)\nbobs_model = model.copy().send(bob)\nalices_model = model.copy().send(alice)\n"
    "bobs_opt = optim.SGD(params=bobs_model.parameters(), lr=0.1)\n"
    "alices_opt = optim.SGD(params=alices_model.parameters(), lr=0.1)",
    "for i in range(10):\n"
    "    bobs_opt.zero_grad()\n    bobs_loss = ((bobs_model(bobs_data) - bobs_target) ** 2).sum()\n"
    "    bobs_loss.backward()\n    bobs_opt.step()\n    bobs_loss = bobs_loss.get().data\n"
    "    alices_opt.zero_grad()\n    alices_loss = ((alices_model(alices_data) - alices_target) ** 2).sum()\n"
    "    alices_loss.backward()\n    alices_opt.step()\n    alices_loss = alices_loss.get().data\n"
    "print('Bob:' + str(bobs_loss) + ' Alice:' + str(alices_loss))",
    "%syft dashboard",
    "alices_model.move(secure_worker)\nbobs_model.move(secure_worker)\nwith torch.no_grad():\n"
    "    model.weight.set_(((alices_model.weight.data + bobs_model.weight.data) / 2).get())\n"
    "    model.bias.set_(((alices_model.bias.data + bobs_model.bias.data) / 2).get())",
]

BOARD_TEXTS = """(output) => Array.from(output.querySelectorAll('.jsyft-board svg text'), t => t.textContent)"""


def lab_with_notebook(page, tmp_path, name: str, cells) -> "Server":
    """JupyterLab serving a notebook of these code cells, opened in page with its kernel idle."""
    server = Server("lab", tmp_path)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, tmp_path / "root" / f"{name}.ipynb")
    try:
        page.goto(f"{server.url}/lab/tree/{name}.ipynb")
        page.wait_for_function(KERNEL_IDLE)
    except BaseException:
        server.stop()
        raise
    return server


def run_cell(page, source: str, wait: bool = True):
    """Run the notebook's cell holding source; its output area. Without waiting, the command
    is started and not awaited: the cell goes on running."""
    index = page.evaluate(RUN_CELL if wait else RUN_CELL.replace("await ", ""), source)
    if wait:
        page.wait_for_function(KERNEL_IDLE)
    return page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-OutputArea-output")


def test_jupyterlab_dashboard_draws_chains_and_models(browser_page, tmp_path):
    page = browser_page
    server = lab_with_notebook(page, tmp_path, "dashboard", DASHBOARD_CELLS)
    try:
        page.evaluate("window.jupyterapp.shell.activateById('jupyter-syft-panel')")
        panel = page.locator("#jupyter-syft-panel")

        def run(source):
            return run_cell(page, source)

        for source in DASHBOARD_CELLS[:3]:
            run(source)
        board = run("%syft")
        board.locator(".jsyft-board svg").wait_for()
        texts = board.evaluate(BOARD_TEXTS)
        for name in ("x_ptr", "pointer_to_x_ptr", "me", "alice", "bob", "[1, 2, 3, 4]"):
            assert name in texts, (name, texts)
        # three arrows: x_ptr -> bob, pointer_to_x_ptr -> alice, alice's pointer -> bob
        assert board.locator("path.arrow").count() == 3
        chain = board.locator("g", has_text="pointer_to_x_ptr").locator("title").first.text_content()
        assert re.fullmatch(r"pointer_to_x_ptr: me:\d+ → alice:\d+ → bob:\d+", chain), chain
        heads = board.evaluate("o => Array.from(o.querySelectorAll('svg text.h'), t => t.textContent)")
        assert heads == ["me", "alice", "bob"]  # the chain reads left to right
        assert_fits(board)
        hops = panel.locator('li.jsyft-panel-variable[data-variable-name="pointer_to_x_ptr"] .jsyft-panel-hop')
        hops.nth(1).wait_for()
        assert hops.evaluate_all("els => els.map(e => e.dataset.workerId)") == ["alice", "bob"]
        assert "[1, 2, 3, 4]" in hops.nth(1).inner_text()
        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-dashboard-part03-chain.png"))
        board.screenshot(path=str(ARTIFACTS / "lab-dashboard-part03-chain-diagram.png"))

        for source in DASHBOARD_CELLS[4:7]:
            run(source)
        board = run("%syft dashboard")
        board.locator(".jsyft-board .group").nth(1).wait_for()
        texts = board.evaluate(BOARD_TEXTS)
        for name in ("bobs_model", "alices_model", "bobs_data", "alices_target", "weight ∇", "bias ∇",
                     "secure_worker", "left via .get(): nothing"):
            assert name in texts, (name, texts)
        groups = board.locator(".jsyft-board .group text").all_text_contents()
        assert groups == ["bobs_model Linear", "alices_model Linear"] or groups == ["alices_model Linear", "bobs_model Linear"]
        # the training data never left bob: only the ten losses came home through .get()
        got = [t for t in texts if t.startswith("left via .get(): ") and t.endswith(" B")]
        assert len(got) == 2 and all(int(t.split()[-2]) < 1000 for t in got), texts
        assert_fits(board)
        group = panel.locator('.jsyft-panel-worker[data-worker-id="bob"] .jsyft-panel-group[data-group-name="bobs_model"]')
        group.wait_for()
        assert group.locator("td.jsyft-param").all_inner_texts() == ["weight", "bias"]
        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-dashboard-part04-trained.png"))
        board.screenshot(path=str(ARTIFACTS / "lab-dashboard-part04-trained-diagram.png"))

        run(DASHBOARD_CELLS[8])
        # both models moved to the aggregator: their groups are in secure_worker's column now
        page.wait_for_function("""() => document.querySelectorAll(
            '.jsyft-board .group[data-worker="secure_worker"]').length === 4""")  # 2 outputs x 2 models
        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-dashboard-part04-averaged.png"))
        board.screenshot(path=str(ARTIFACTS / "lab-dashboard-part04-averaged-diagram.png"))
    finally:
        server.stop()


def assert_fits(output):
    """At 1366x768 with both sidebars open, the diagram fits its output area: it may shrink a
    little (at most to MIN_SCALE), never overflow or need scrolling."""
    svg, area, scroll, natural = output.evaluate("""o => { const svg = o.querySelector('.jsyft-board svg');
        const board = o.querySelector('.jsyft-board');
        return [svg.getBoundingClientRect().toJSON(), o.getBoundingClientRect().toJSON(),
                [board.scrollWidth, board.clientWidth], svg.viewBox.baseVal.width]; }""")
    assert svg["right"] <= area["right"] + 0.5 and scroll[0] <= scroll[1], (svg, area, scroll)
    assert svg["width"] >= 0.8 * natural - 0.5, (svg["width"], natural)


TRAINING_CELLS = [
    "%load_ext jupyter_syft",
    "import torch, syft as sy\nfrom torch import nn\nhook = sy.TorchHook(torch)\n"
    "bob = sy.VirtualWorker(hook, id='bob')\nalice = sy.VirtualWorker(hook, id='alice')\n"
    "torch.manual_seed(0)\n"
    "data = torch.utils.data.TensorDataset(torch.randn(320, 4), torch.randn(320))\n"
    "loader = sy.FederatedDataLoader(data.federate((bob, alice)), batch_size=16)\n"
    "model = nn.Linear(4, 1)\nopt = torch.optim.SGD(model.parameters(), lr=0.05)",
    "%syft training",
    "import time\nfor epoch in range(3):\n    for x, y in loader:\n        model.send(x.location)\n"
    "        opt.zero_grad()\n        loss = ((model(x).view(-1) - y) ** 2).mean()\n"
    "        loss.backward()\n        opt.step()\n        model.get()\n        loss.get()\n"
    "        time.sleep(0.02)\nprint('done')",
]


def test_jupyterlab_training_view_follows_a_running_loop(browser_page, tmp_path):
    page = browser_page
    server = lab_with_notebook(page, tmp_path, "training", TRAINING_CELLS)
    try:
        def run(source, wait=True):
            return run_cell(page, source, wait)

        for source in TRAINING_CELLS[:2]:
            run(source)
        view = run(TRAINING_CELLS[2])
        view.get_by_text("waiting for a FederatedDataLoader").wait_for()
        run(TRAINING_CELLS[3], wait=False)
        # while the loop runs, the view moves: some batches done, not yet all
        page.wait_for_function("""() => /epoch [12]/.test(document.body.innerText)
                                  && /batches/.test(document.body.innerText)""", timeout=60_000)
        page.wait_for_function(KERNEL_IDLE, timeout=120_000)
        page.get_by_text("epoch 3").wait_for()
        assert view.locator("polyline").count() == 2  # one loss line per worker
        assert view.get_by_text("10/10 batches").count() == 2
        view.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-training-view.png"))
        view.screenshot(path=str(ARTIFACTS / "lab-training-view-widget.png"))
    finally:
        server.stop()
