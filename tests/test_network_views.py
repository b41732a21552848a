"""Network workers in the live views, with real servers (in this process, on 127.0.0.1): a
NetworkWorker's view, the dashboard and the side panel's board show its server's summary, asked
at most once per cell and only when something could have changed; a dead server is shown as
unreachable without hanging; a served worker's audit log is a live AuditView, drawn by the
kernel's thread only. The last test runs a data owner and a client in a real kernel."""
import asyncio
import gc
import html
import json
import re
import threading
import time

import pytest
import torch

import jupyter_syft as sy
from jupyter_syft.exceptions import PrivateDataError
from jupyter_syft.widgets import remote, render, snapshot
from jupyter_syft.widgets.audit import AuditView
from jupyter_syft.workers import remove_worker
from jupyter_syft.workers.server import WorkerServer
from test_kernel import executed

READINGS = [31.0, 45.0, 62.0, 28.0]


@pytest.fixture
def served(hook):
    """A data owner's worker with private readings, served from this process."""
    readings = torch.tensor(READINGS).tag("#readings")
    owner = sy.VirtualWorker(hook, id="views-owner", data=[readings])
    server = sy.serve(owner, private=[readings.id])
    try:
        yield server
    finally:
        server.stop()
        remove_worker(owner)


def client_of(hook, server, worker_id="views-bob", timeout=10.0):
    return sy.NetworkWorker(hook, "127.0.0.1", server.port, id=worker_id, token=server.token, timeout=timeout)


@pytest.fixture
def netbob(hook, served):
    bob = client_of(hook, served)
    yield bob
    bob.close()
    remove_worker(bob)


def summaries(server):
    return sum(1 for e in list(server.audit.entries) if e["kind"] == "summary")


def plain(value):
    """Every leaf of a snapshot is plain data (no tensors, no pointers)."""
    json.dumps(value)
    return value


def next_cell(live):
    live.after_cell()
    live.end_cell()


# --- a network worker's view ----------------------------------------------------------------
def test_a_network_workers_view_lists_its_servers_summary(live, served, netbob):
    x = torch.tensor([1, 2, 3]).send(netbob)
    big = torch.zeros(500).send(netbob)
    ages = sy.local_worker.request_search(["#readings"], location=netbob)[0]
    mean = ages.mean()
    view = live.worker_view(netbob)
    snap = plain(view.snapshot)
    assert netbob._store.objects == {}  # nothing lives here: the rows come from the server
    assert snap["network"] == {"address": netbob.address, "status": "ok", "error": "", "requests": 4}
    rows = {r["id"]: r for r in snap["rows"]}
    assert list(rows) == [x.id_at_location, big.id_at_location, mean.id_at_location]
    assert rows[x.id_at_location]["preview"] == "[1, 2, 3]" and rows[x.id_at_location]["dtype"] == "int64"
    assert rows[big.id_at_location]["preview"] == "(500 values)" and rows[big.id_at_location]["shape"] == [500]
    assert rows[mean.id_at_location]["private"] is True and rows[mean.id_at_location]["preview"] == "private"
    assert "private" not in rows[x.id_at_location]
    drawn = view.value
    assert f"network worker at {netbob.address}" in drawn and '<tr class="private"' in drawn
    with pytest.raises(PrivateDataError):
        mean.get()


def test_the_summary_is_asked_once_per_cell_and_only_when_something_changed(live, served, netbob):
    live.worker_view(netbob)  # displayed: one summary (nothing is known yet)
    assert summaries(served) == 1
    next_cell(live)  # nothing was sent to bob: nothing asked
    next_cell(live)
    assert summaries(served) == 1
    x = torch.tensor([1.0, 2.0]).send(netbob)
    live.after_cell()  # a request went to bob: one summary, and the view follows
    assert summaries(served) == 2 and [r["id"] for r in live.worker_views[netbob.id].snapshot["rows"]] == [
        x.id_at_location]
    y = x + 1
    live.after_cell()  # the same cell again (%syft runs after_cell): not asked twice
    assert summaries(served) == 2
    live.end_cell()
    next_cell(live)
    assert summaries(served) == 3 and len(live.worker_views[netbob.id].snapshot["rows"]) == 2
    del y  # a pointer dies: its delete waits for bob; the next summary carries it
    gc.collect()
    next_cell(live)
    assert summaries(served) == 4
    assert [r["id"] for r in live.worker_views[netbob.id].snapshot["rows"]] == [x.id_at_location]
    assert sy.local_worker._pending_deletes.get(netbob) in (None, [])
    # the views' own summaries are not counted as the notebook's requests
    assert live.worker_views[netbob.id].snapshot["network"]["requests"] == 2  # the send and the add


def test_nothing_is_asked_while_nothing_shows_the_network_worker(live, served, netbob):
    torch.tensor([1.0]).send(netbob)
    next_cell(live)
    next_cell(live)
    assert summaries(served) == 0


def test_a_dead_server_is_shown_unreachable_without_hanging(live, hook, monkeypatch):
    monkeypatch.setattr(remote, "SUMMARY_TIMEOUT", 0.5)
    owner = sy.VirtualWorker(hook, id="views-dying-owner")
    server = sy.serve(owner)
    port, token = server.port, server.token
    bob = client_of(hook, server, "views-dying-bob", timeout=30.0)  # its own timeout: 30 s
    restarted = None
    try:
        x = torch.tensor([1.0, 2.0]).send(bob)
        live.variables = lambda: [("x", x)]
        live.worker_view(bob)
        board = live.dashboard_view()
        assert [v["end"] for v in board.snapshot["variables"]] == ["tensor"]
        next_cell(live)
        server.stop()
        time.sleep(0.3)
        z = torch.tensor([3.0])
        z_ptr = sy.PointerTensor(bob, 123, (1,), torch.float32, owner=sy.local_worker)
        del z_ptr  # a delete waits for bob: something could have changed there
        gc.collect()
        start = time.monotonic()
        live.after_cell()
        assert time.monotonic() - start < 2.5  # the view's timeout, not the worker's 30 s
        snap = plain(live.worker_views[bob.id].snapshot)
        assert snap["network"]["status"] == "unreachable" and snap["rows"] == []
        assert "did not answer within 0.5 s" in snap["network"]["error"]
        assert "unreachable: " in live.worker_views[bob.id].value
        assert [v["end"] for v in live.dashboard.snapshot["variables"]] == ["unreachable"]
        x_node = re.search(r'<title>(x: me:[^<]*)</title>.*?<text class="err"[^>]*>([^<]*)</text>', live.dashboard.value)
        assert html.unescape(x_node.group(1)).endswith("; views-dying-bob's server did not answer")
        assert x_node.group(2).startswith("→ views-dying-bob: unrea")  # in red, as far as it fits
        column = next(c for c in render.board_columns(live.dashboard.snapshot) if c["key"] == bob.id)
        assert ("unreachable", "err") in column["sub"] and column["net"]
        start = time.monotonic()
        live.after_cell()  # the same cell: not asked again
        live.worker_view(bob)
        assert time.monotonic() - start < 0.3
        live.end_cell()
        start = time.monotonic()
        next_cell(live)  # nothing new was sent to bob: not asked again
        assert time.monotonic() - start < 0.3
        # back on the same port: a request reaches it, and the next cell's summary shows it
        restarted = WorkerServer("views-dying-owner", port=port, token=token).start()
        w = torch.tensor([5.0]).send(bob)
        next_cell(live)
        snap = live.worker_views[bob.id].snapshot
        assert snap["network"]["status"] == "ok" and [r["id"] for r in snap["rows"]] == [w.id_at_location]
        assert [v["end"] for v in live.dashboard.snapshot["variables"]] == ["missing"]  # a new server
        del z
    finally:
        if restarted is not None:
            restarted.stop()
        server.stop()
        bob.close()
        remove_worker(bob)
        remove_worker(owner)


def test_a_refused_token_is_shown_not_raised(live, hook, served):
    intruder = sy.NetworkWorker(hook, "127.0.0.1", served.port, id="views-intruder", token="wrong", timeout=5)
    try:
        snap = live.worker_view(intruder).snapshot
        assert snap["network"]["status"] == "error" and "authentication failed" in snap["network"]["error"]
        assert "refused the summary" in live.worker_views[intruder.id].value
    finally:
        remove_worker(intruder)


# --- the dashboard and the side panel's board ----------------------------------------------
def test_the_dashboard_draws_pointers_to_a_network_worker(live, served, netbob):
    x = torch.tensor([1, 2, 3]).send(netbob)
    ages = sy.local_worker.request_search(["#readings"], location=netbob)[0]
    mean = ages.mean()
    live.variables = lambda: [("x", x), ("ages", ages), ("mean", mean)]
    board = live.dashboard_view()
    snap = plain(board.snapshot)
    ends = {v["name"]: (v["path"][-1], v["end"]) for v in snap["variables"]}
    assert ends == {"x": ([netbob.id, x.id_at_location], "tensor"), "ages": ([netbob.id, ages.id_at_location], "tensor"),
                    "mean": ([netbob.id, mean.id_at_location], "tensor")}
    column = next(w for w in snap["workers"] if w["worker_id"] == netbob.id)
    assert column["network"]["address"] == netbob.address and column["traffic"] == {}
    rows = {r["id"]: r for r in column["rows"]}
    # the data owner's readings are not in this client's summary: drawn from the pointer, as theirs
    assert rows[ages.id_at_location] == {"id": ages.id_at_location, "dtype": "float32", "shape": [4],
                                         "requires_grad": False, "grad": False, "preview": "data owner's",
                                         "tags": [], "owner": True}
    assert column["count"] == 2 and rows[mean.id_at_location]["private"]
    svg = board.value
    assert svg.count('<path class="arrow"') == 3  # every pointer is an arrow into bob's column
    assert '<rect class="lane net"' in svg and "server 127.0.0.1:" in svg
    assert '<g class="priv">' in svg and "private () float32" in svg
    assert "Dashed columns: network workers" in svg
    # the side panel's board is the same, a page of rows per worker
    panel_board = plain(snapshot.board_snapshot([netbob], live.variables(), limit=snapshot.PAGE_SIZE))
    assert next(w for w in panel_board["workers"])["network"]["status"] == "ok"


def test_network_views_hold_no_tensors(live, served, netbob):
    x = torch.tensor([1.0, 2.0]).send(netbob)
    live.variables = lambda: [("x", x)]
    live.worker_view(netbob)
    live.dashboard_view()
    store = remote.store_of(netbob)
    for row in store.rows.values():
        assert not any(isinstance(v, torch.Tensor) for v in row.values())
    for view in [*live.worker_views.values(), live.dashboard]:
        for referent in gc.get_referents(view.__dict__):
            assert not isinstance(referent, torch.Tensor)


def test_a_served_clients_namespace_is_not_a_worker_of_the_views(live, served, netbob):
    torch.tensor([1.0]).send(netbob)
    assert all(not str(wid).startswith("views-owner/") for wid in live._watched)
    assert all(not str(wid).startswith("views-owner/") for wid in live._dirty_workers)


# --- the audit log --------------------------------------------------------------------------
def test_the_audit_view_counts_clients_and_shows_refusals_in_red(live, hook, served, netbob):
    other = client_of(hook, served, "views-other-bob")
    try:
        ages = sy.local_worker.request_search(["#readings"], location=netbob)[0]
        mean = ages.mean()
        with pytest.raises(PrivateDataError):
            mean.get()
        torch.ones(2).send(other)
        view = live.audit_view(served)
        snap = plain(view.snapshot)
        assert snap["worker_id"] == "views-owner" and snap["address"] == served.address
        assert (snap["objects"], snap["private"], snap["total"], snap["refused"]) == (1, 1, 4, 1)
        clients = {c["client"]: c for c in snap["clients"]}
        assert sorted((c["requests"], c["refused"]) for c in clients.values()) == [(1, 0), (3, 1)]
        newest = snap["entries"][0]
        assert newest["kind"] == "store" and not newest["refused"]
        refused = snap["entries"][1]
        assert (refused["kind"], refused["refused"]) == ("get", True)  # (the log names no ids for a get)
        assert [e["op"] for e in snap["entries"]].count("Tensor.mean") == 1
        drawn = view.value
        assert '<tr class="refused">' in drawn and "1 refused" in drawn and drawn.count('<g class="client"') == 2
        assert live.audit_view(served) is view  # one live view per server
        torch.ones(3).send(netbob)
        assert view.snapshot["total"] == 4  # no loop here: drawn by the next cell's refresh
        next_cell(live)
        assert view.snapshot["total"] == 5
    finally:
        remove_worker(other)


def test_the_audit_view_is_drawn_on_the_loops_thread_only(served, netbob):
    drawn = []

    async def main():
        view = AuditView(served, throttle=0.05)
        original = view.show

        def show(snap):
            drawn.append(threading.current_thread())
            return original(snap)
        view.show = show
        for _ in range(5):  # the loop's thread blocks in each request, as a cell does
            torch.ones(1).send(netbob)
        assert view.snapshot["total"] == 0  # the server's threads only scheduled a drawing
        await asyncio.sleep(0.3)
        view.close()
        return view.snapshot

    snap = asyncio.run(main())
    assert snap["total"] == 5 and drawn and set(drawn) == {threading.main_thread()}
    assert len(drawn) <= 3  # throttled: the five entries came in one drawing (or a few)
    assert served.audit.listeners == []  # closed: it stopped following the log


# --- a real kernel --------------------------------------------------------------------------
NETWORK_CELLS = [
    "%load_ext jupyter_syft\nimport torch\nimport syft as sy\nhook = sy.TorchHook(torch)",
    # the data owner
    "bob = sy.VirtualWorker(hook, id='bob')\n"
    "readings = torch.tensor([31.0, 45.0, 62.0, 28.0]).tag('#readings')\n"
    "bob_readings = readings.send(bob)\n"
    "server = sy.serve(bob, private=[bob._objects[bob_readings.id_at_location]])\n"
    "server",
    # a client of it (in the same notebook, for the test)
    "remote_bob = sy.NetworkWorker(hook, '127.0.0.1', server.port, id='remote_bob', token=server.token, timeout=10)\n"
    "x = torch.tensor([1, 2, 3]).send(remote_bob)\n"
    "remote_bob",
    "ages = sy.local_worker.request_search(['#readings'], location=remote_bob)[0]\n"
    "mean = ages.mean()",
    "from jupyter_syft.exceptions import PrivateDataError\n"
    "try:\n    mean.get()\nexcept PrivateDataError:\n    print('refused')",
    "%syft",
    "remote_bob._objects",
    "import json\n"
    "print(json.dumps({'x': x.id_at_location, 'ages': ages.id_at_location, 'mean': mean.id_at_location,\n"
    "                  'address': remote_bob.address, 'summaries': sum(e['kind'] == 'summary' for e in server.audit.entries),\n"
    "                  'entries': len(server.audit.entries)}))",
]


def test_kernel_serves_a_worker_and_a_client_sees_it(tmp_path):
    nb = executed(NETWORK_CELLS, tmp_path)
    for cell in nb.cells:
        assert all(o["output_type"] != "error" and o.get("name") != "stderr" for o in cell.outputs), cell
    facts = json.loads(nb.cells[-1].outputs[0]["text"])
    assert nb.cells[4].outputs[0]["text"] == "refused\n"
    [server_out] = nb.cells[1].outputs
    assert server_out["data"]["text/plain"].startswith("<WorkerServer bob tcp://127.0.0.1:")
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    snaps = [m["state"]["snapshot"] for m in state.values() if "snapshot" in m["state"]]

    # the client's view of remote_bob: its server's summary, with the private mean
    [worker] = [s for s in snaps if s.get("worker_id") == "remote_bob" and "rows" in s]
    assert worker["network"]["address"] == facts["address"] and worker["network"]["status"] == "ok"
    rows = {r["id"]: r for r in worker["rows"]}
    assert list(rows) == [facts["x"], facts["mean"]]
    assert rows[facts["x"]]["preview"] == "[1, 2, 3]" and rows[facts["mean"]]["private"] is True

    # the dashboard: every pointer an arrow into remote_bob's column
    [board] = [s for s in snaps if s.get("version") == snapshot.BOARD_VERSION]
    ends = {v["name"]: (v["path"][-1], v["end"]) for v in board["variables"]}
    assert ends["x"] == (["remote_bob", facts["x"]], "tensor")
    assert ends["ages"] == (["remote_bob", facts["ages"]], "tensor")
    assert ends["mean"] == (["remote_bob", facts["mean"]], "tensor")
    column = next(w for w in board["workers"] if w["worker_id"] == "remote_bob")
    assert {r["id"] for r in column["rows"]} == {facts["x"], facts["mean"], facts["ages"]}

    # the data owner's audit view: one client, its refused .get() in red, after the last cell
    [audit] = [s for s in snaps if s.get("kind") == "audit"]
    assert audit["worker_id"] == "bob" and audit["address"] == facts["address"]
    assert (audit["objects"], audit["private"]) == (1, 1)
    assert audit["total"] == facts["entries"] and audit["refused"] == 1
    [client] = audit["clients"]
    assert client["client"].startswith("token/") and client["requests"] == facts["entries"]
    assert any(e["kind"] == "get" and e["refused"] for e in audit["entries"])
    # the views asked for a summary at most once per cell (cells 3 to 8), besides bob._objects
    assert facts["summaries"] <= 6 + 1


# the browser tests' JupyterLab set-up (playwright and Debian's chromium), shared
from test_browser import ARTIFACTS, BOARD_TEXTS, assert_fits, browser_page, lab_with_notebook, run_cell  # noqa: E402,F401
LAB_CELLS = NETWORK_CELLS[:7] + ["server.stop()", "del x"]


def test_jupyterlab_shows_a_network_worker_and_the_audit_log(browser_page, tmp_path):  # noqa: F811 (a fixture)
    page = browser_page
    lab = lab_with_notebook(page, tmp_path, "network", LAB_CELLS)
    try:
        page.evaluate("window.jupyterapp.shell.activateById('jupyter-syft-panel')")
        panel = page.locator("#jupyter-syft-panel")
        run_cell(page, LAB_CELLS[0])
        audit = run_cell(page, LAB_CELLS[1])
        audit.locator(".jsyft-audit", has_text="no requests yet").wait_for()
        run_cell(page, LAB_CELLS[2])
        audit.locator(".jsyft-audit", has_text="1 client").wait_for()
        run_cell(page, LAB_CELLS[3])
        run_cell(page, LAB_CELLS[4])
        audit.locator("tr.refused", has_text="get").wait_for()  # the refused .get(), in red
        assert audit.locator("g.client").count() == 1

        board = run_cell(page, "%syft")
        board.locator(".jsyft-board svg").wait_for()
        texts = board.evaluate(BOARD_TEXTS)
        for text in ("remote_bob", "x", "ages", "mean", "[1, 2, 3]", "private () float32", "owner's (4,) float32"):
            assert text in texts, (text, texts)
        assert any(t.startswith("server 127.0.0.1:") for t in texts), texts
        assert board.locator("rect.lane.net").count() == 1 and board.locator("g.priv").count() == 1
        assert board.locator("path.arrow").count() == 4  # x, ages, mean on remote_bob; bob_readings on bob
        assert_fits(board)

        worker = panel.locator('.jsyft-panel-worker[data-worker-id="remote_bob"]')
        worker.locator(".jsyft-panel-network").wait_for()
        assert worker.locator(".jsyft-panel-network").inner_text().startswith("server 127.0.0.1:")
        worker.locator("tr.jsyft-panel-object-private").wait_for()
        assert worker.locator("tr.jsyft-panel-object-private .jsyft-value").inner_text() == "private"
        assert worker.locator("tr.jsyft-panel-object-owner .jsyft-value").inner_text() == "data owner's"
        mean_hop = panel.locator('li.jsyft-panel-variable[data-variable-name="mean"] .jsyft-panel-hop')
        assert mean_hop.get_attribute("data-worker-id") == "remote_bob" and "private" in mean_hop.inner_text()
        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-network-worker.png"))
        board.screenshot(path=str(ARTIFACTS / "lab-network-worker-diagram.png"))
        panel.screenshot(path=str(ARTIFACTS / "lab-network-worker-panel.png"))
        audit.scroll_into_view_if_needed()
        audit.screenshot(path=str(ARTIFACTS / "lab-network-audit.png"))

        objects = run_cell(page, LAB_CELLS[6])  # remote_bob._objects: the dict, and the worker's view
        objects.locator(".jsyft", has_text="network worker at tcp://127.0.0.1:").wait_for()
        assert objects.locator(".jsyft table tr.private").count() == 1
        objects.screenshot(path=str(ARTIFACTS / "lab-network-objects.png"))

        run_cell(page, LAB_CELLS[7])  # the data owner stops serving
        run_cell(page, LAB_CELLS[8])  # a pointer dies: the views ask remote_bob, which does not answer
        worker.locator(".jsyft-panel-unreachable").wait_for()
        board.locator(".jsyft-board svg text", has_text="unreachable").first.wait_for()
        assert "unreachable: did not answer within 3 s" in worker.inner_text()
        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-network-worker-unreachable.png"))
    finally:
        lab.stop()


def test_syft_reset_deletes_what_the_notebook_keeps_on_a_network_worker(live, served, netbob):
    from jupyter_syft.ipython.magics import _reset_network_worker

    x = torch.tensor([1.0]).send(netbob)
    torch.tensor([2.0]).send(netbob).garbage_collect_data = False
    ages = sy.local_worker.request_search(["#readings"], location=netbob)[0]
    assert len(netbob._objects) == 2
    _reset_network_worker(netbob)
    assert netbob._objects == {}
    assert (ages * 0).sum().shape == torch.Size([])  # the data owner's readings stay
    next_cell(live)
    del x


def test_the_audit_view_counts_what_came_in_while_the_log_overflowed(served, netbob):
    served.audit.entries = __import__("collections").deque(served.audit.entries, maxlen=5)
    view = AuditView(served)
    try:
        torch.ones(1).send(netbob)
        view.drain()
        assert view.snapshot["total"] == 1 and not view.snapshot["lost"]
        for _ in range(8):  # more than the log keeps, between two drawings
            torch.ones(1).send(netbob)
        view.drain()
        assert view.snapshot["total"] == 1 + 5 and view.snapshot["lost"]  # what the log still had
        assert "the counts miss some" in view.value
    finally:
        view.close()
