"""Plans and protocols in the live views (no kernel): a worker's stored plan is a plan row (name,
ops, built, state tensors), a protocol a worker keeps lists its steps, and on the dashboard a
PointerPlan is an arrow to its plan and a deployed protocol a numbered route across its workers."""
import json
import re

import torch

import jupyter_syft as sy
from jupyter_syft.plans.protocol import StoredProtocol
from jupyter_syft.plans.record import PlanRecord
from jupyter_syft.widgets import render, snapshot
from jupyter_syft.workers import remove_worker
from plan_examples import Net, incrementers
from test_kernel import _dashboard_states, executed





def board_of(live, **variables):
    live.variables = lambda: list(variables.items())
    return live.dashboard_view()


def worker_of(board, worker_id):
    return next(w for w in board.snapshot["workers"] if w["worker_id"] == worker_id)


def column_spans(svg):
    """Each column's title -> its x range, read from the drawn SVG (title text, then lane)."""
    lanes = re.findall(r'<rect class="lane" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    titles = re.findall(r'<text class="h" x="[\d.]+" y="[\d.]+">([^<]*)</text>', svg)
    return {t: (float(x), float(x) + float(w)) for t, (x, w) in zip(titles, lanes)}


def badges(svg):
    """(step number, cx, cy) of each step badge, in drawing order."""
    return [(int(n), float(x), float(y)) for n, x, y in
            re.findall(r'<g class="step" data-step="(\d+)"><title>[^<]*</title><circle cx="([\d.]+)" cy="([\d.]+)"', svg)]


def box_of(svg, title_start):
    """The rect (x, y, w, h) of the node whose tooltip starts with title_start."""
    m = re.search(r'<title>' + re.escape(title_start) + r'[^<]*</title><rect class="box" x="([\d.]+)" '
                  r'y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', svg)
    assert m, title_start
    return tuple(float(v) for v in m.groups())


# --- rows: what a worker keeps --------------------------------------------------------------
def test_object_row_of_a_stored_plan_says_what_it_is(hook, bob):
    inc1, = incrementers(1)
    inc1.tag("#inc")
    inc1.send(bob)
    record = bob._store.objects[inc1.id]
    assert isinstance(record, PlanRecord)
    row = snapshot.object_row(inc1.id, record)
    assert row == {"id": inc1.id, "kind": "plan", "name": "inc1", "ops": 1, "built": True, "state": 0,
                   "args": [[[1], "float32"]], "tags": ["#inc"],
                   "code": "def inc1(arg_1):\n    _2 = _1.__add__(1)\n    return _2"}
    assert "dtype" not in row and "shape" not in row  # not a tensor with a made-up dtype
    json.dumps(row)  # plain data: a view can sync it


def test_a_module_plan_counts_its_ops_and_state_tensors(hook, bob):
    net = Net()
    net.build(torch.tensor([1.0, 2.0]))
    net.send(bob)
    row = snapshot.object_row(net.id, bob._store.objects[net.id])
    assert (row["name"], row["ops"], row["state"], row["built"]) == ("Net", len(net.record.steps), 4, True)
    assert row["ops"] >= 4 and row["code"].startswith("def Net(arg_5):")
    assert render.plan_summary(row) == f"{row['ops']} ops · built · 4 state tensors"


def test_a_long_plan_lists_its_first_steps_only(hook, bob):
    @sy.func2plan(args_shape=[(2,)])
    def long_plan(x):
        for _ in range(40):
            x = x + 1
        return x

    long_plan.send(bob)
    row = snapshot.object_row(long_plan.id, bob._store.objects[long_plan.id])
    assert row["ops"] == 40
    lines = row["code"].splitlines()
    assert len(lines) == 1 + snapshot.CODE_STEPS + 1
    assert lines[-1] == f"    … {40 - snapshot.CODE_STEPS} more ops"


def test_stored_protocol_rows_deployed_and_not(hook, alice, bob, charlie, james):
    inc1, inc2, inc3 = incrementers()
    undeployed = sy.Protocol([("worker1", inc1), ("worker2", inc2), ("worker3", inc3)])
    undeployed.send(james)
    deployed = sy.Protocol([("worker1", inc1), ("worker2", inc2)]).deploy(alice, bob)
    deployed.send(james)
    rows = [snapshot.object_row(i, o) for i, o in james._store.objects.items()]
    assert all(isinstance(o, StoredProtocol) for o in james._store.objects.values())
    first, second = rows
    assert first == {"id": undeployed._id_at_location, "kind": "protocol", "plans": 3, "deployed": False,
                     "tags": [], "steps": [{"worker": "worker1", "plan": "inc1", "at": None},
                                           {"worker": "worker2", "plan": "inc2", "at": None},
                                           {"worker": "worker3", "plan": "inc3", "at": None}]}
    alice_plan, bob_plan = (p.id_at_location for _, p in deployed.plans)
    assert second["deployed"] and second["plans"] == 2
    assert second["steps"] == [{"worker": "alice", "plan": None, "at": ["alice", alice_plan]},
                               {"worker": "bob", "plan": None, "at": ["bob", bob_plan]}]
    assert snapshot.row_targets(second) == [["alice", alice_plan], ["bob", bob_plan]]
    assert render.protocol_summary(first) == "not deployed: worker1 → worker2 → worker3"
    assert render.protocol_summary(second) == "deployed: alice → bob"


def test_worker_view_lists_plans_and_protocols_and_follows_the_store(live, hook, bob):
    x = torch.tensor([1.0, 2.0]).send(bob)
    view = live.worker_view(bob)
    inc1, inc2 = incrementers(2)
    pp = inc1.send(bob)
    sy.Protocol([("w1", inc2)]).send(bob)
    live.after_cell()
    kinds = [r.get("kind") for r in view.snapshot["rows"]]
    assert kinds == [None, "plan", "protocol"] and view.snapshot["count"] == 3
    html = view.value
    assert "PlanRecord" not in html and "StoredProtocol" not in html
    assert '<tr class="plan" title="def inc1(arg_1):' in html  # its listing as the row's tooltip
    assert "<b>plan</b> inc1((1,) float32)</td><td>1 op · built · no state tensors</td>" in html
    assert "<b>protocol</b> · 1 plan</td><td>not deployed: w1</td>" in html
    assert "[1, 2]" in html  # the tensor row is unchanged
    pp.get()  # the plan comes home: gone from bob's view
    live.after_cell()
    assert [r.get("kind") for r in view.snapshot["rows"]] == [None, "protocol"]
    del x


def test_an_unreadable_object_in_a_store_never_breaks_a_view(live, bob):
    class Odd:
        @property
        def tags(self):
            raise RuntimeError("no")

    bob._objects[7] = Odd()
    record = PlanRecord("broken", [], [], [], None)
    record.steps = None  # a record a view cannot count: still a row
    bob._objects[8] = record
    view = live.worker_view(bob)
    assert [r["id"] for r in view.snapshot["rows"]] == [7, 8]
    assert all(r["preview"] in ("Odd", "PlanRecord") for r in view.snapshot["rows"])


# --- the dashboard --------------------------------------------------------------------------
def test_a_pointer_plan_is_an_arrow_to_its_plan(live, hook, bob):
    inc1, = incrementers(1)
    pp = inc1.send(bob)
    board = board_of(live, pp=pp)
    [entry] = board.snapshot["variables"]
    assert entry == {"name": "pp", "kind": "plan_pointer", "type": "PointerPlan", "plan": "inc1",
                     "state": "live", "path": [["me", pp.id], ["bob", inc1.id]], "end": "plan"}
    [row] = worker_of(board, "bob")["rows"]
    assert row["kind"] == "plan" and row["id"] == inc1.id
    svg = board.value
    assert svg.count('<path class="arrow"') == 1
    assert f"pp: me:{pp.id} → bob:{inc1.id}, plan inc1" in svg
    assert '<g class="plan"><title>bob:' in svg  # a plan's box, in the plans' colour
    assert ">inc1</tspan><tspan class=\"m\"> plan</tspan>" in svg and ">1 op · built</text>" in svg
    assert "Purple boxes: plans" in svg  # the caption explains the new colour

    local = pp.get()  # PySyft's plan.get(): the plan comes home, the pointer is used up
    assert local(torch.tensor([2.0])).tolist() == [3.0]
    live.after_cell()
    [entry] = board.snapshot["variables"]
    assert entry["state"] == "fetched" and entry["end"] == "fetched"
    assert worker_of(board, "bob")["rows"] == [] and '<path class="arrow"' not in board.value


def test_a_deployed_protocol_is_a_numbered_route_across_its_workers(live, hook, bob, alice, charlie):
    # bob was made before alice: the columns still read in the order x travels
    inc1, inc2, inc3 = incrementers()
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2), ("worker3", inc3)])
    protocol.deploy(alice, bob, charlie)
    board = board_of(live, protocol=protocol)
    [entry] = board.snapshot["variables"]
    assert entry["kind"] == "protocol" and entry["deployed"] and entry["at"] is None
    assert [(s["worker"], s["plan"], s["path"][1], s["end"]) for s in entry["steps"]] == [
        ("alice", "inc1", ["alice", inc1.id], "plan"), ("bob", "inc2", ["bob", inc2.id], "plan"),
        ("charlie", "inc3", ["charlie", inc3.id], "plan")]
    columns = render.board_columns(board.snapshot)
    assert [c["key"] for c in columns] == ["me", "alice", "bob", "charlie"]

    svg = board.value
    assert svg.count('<path class="arrow route"') == 3 and svg.count('class="tip route"') == 3
    assert '<path class="arrow"' not in svg  # no pointer arrows: only the route
    spans = column_spans(svg)
    steps = badges(svg)
    assert [n for n, _, _ in steps] == [1, 2, 3]
    for (n, cx, cy), worker, plan in zip(steps, ("alice", "bob", "charlie"), (inc1, inc2, inc3)):
        x, y, w, h = box_of(svg, f"{worker}:{plan.id} · plan ")
        assert spans[worker][0] <= cx <= spans[worker][1]  # each step lands on its worker's plan
        assert x <= cx <= x + w and abs(cy - y) <= 2
    tip = ("protocol.run(x): x is sent to alice, inc1 runs there; moved to bob, inc2 runs there; "
           "moved to charlie, inc3 runs there; the result stays on charlie")
    assert tip in svg
    assert ">alice → bob → charlie</text>" in svg

    # it runs as drawn: x ends on charlie, where the route ends
    ptr = protocol.run(torch.tensor([1.0]))
    assert ptr.location is charlie and ptr.get().tolist() == [4.0]


def test_an_undeployed_protocol_is_a_compact_entry_of_fictive_workers(live, hook, bob):
    inc1, inc2, inc3 = incrementers()
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2), ("worker3", inc3)])
    board = board_of(live, protocol=protocol)
    [entry] = board.snapshot["variables"]
    assert not entry["deployed"] and entry["at"] is None
    assert [(s["worker"], s["plan"], s["path"]) for s in entry["steps"]] == [
        ("worker1", "inc1", None), ("worker2", "inc2", None), ("worker3", "inc3", None)]
    svg = board.value
    assert "route" not in re.sub(r"<style>.*?</style>", "", svg)  # nothing to draw yet
    assert ">worker1 → worker2 → worker3</text>" in svg and '<tspan class="m"> not deployed</tspan>' in svg
    assert ("protocol = Protocol, not deployed: worker1: inc1, worker2: inc2, worker3: inc3. "
            "protocol.deploy(...) sends each plan to one of your workers, in this order") in svg
    assert snapshot.variable_entry("empty", sy.Protocol([])) is None  # no plans: nothing to draw


def test_a_protocol_sent_to_a_worker_runs_from_there(live, hook, alice, bob, james):
    inc1, inc2 = incrementers(2)
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2)]).deploy(alice, bob)
    protocol.send(james)
    board = board_of(live, protocol=protocol)
    [entry] = board.snapshot["variables"]
    assert entry["at"] == {"state": "live", "path": [["me", protocol.id], ["james", protocol._id_at_location]],
                           "end": "protocol"}
    [stored] = worker_of(board, "james")["rows"]
    assert stored["kind"] == "protocol" and stored["deployed"]
    assert [c["key"] for c in render.board_columns(board.snapshot)] == ["me", "james", "alice", "bob"]
    svg = board.value
    # the variable points at james's protocol; the route starts from james: no second copy of it
    assert svg.count('<path class="arrow"') == 1 and svg.count('<path class="arrow route"') == 2
    assert [n for n, _, _ in badges(svg)] == [1, 2]
    assert ">on james: alice → bob</text>" in svg
    assert "plan inc1 alice:" in svg and "plan inc2 bob:" in svg  # james's protocol names the plans it runs
    x = torch.tensor([1.0]).send(james)
    result = protocol.run(x)  # as in PySyft: james keeps a pointer to the result on bob
    assert result.get().get().tolist() == [3.0]


def test_a_step_whose_plan_is_gone_breaks_the_route_not_the_board(live, hook, alice, bob, charlie):
    inc1, inc2, inc3 = incrementers()
    protocol = sy.Protocol([("w1", inc1), ("w2", inc2), ("w3", inc3)]).deploy(alice, bob, charlie)
    del bob._objects[inc2.id]
    board = board_of(live, protocol=protocol)
    [entry] = board.snapshot["variables"]
    assert [s["end"] for s in entry["steps"]] == ["plan", "missing", "plan"]
    svg = board.value
    assert [n for n, _, _ in badges(svg)] == [1, 3]
    assert svg.count('<path class="arrow route"') == 1  # me -> alice; nothing through the gap
    assert "(the plan on bob is not there any more)" in svg
    remove_worker(charlie)
    live.after_cell()
    [entry] = board.snapshot["variables"]
    assert [s["end"] for s in entry["steps"]] == ["plan", "missing", "gone"]


def test_the_dashboard_redraws_when_a_protocol_is_deployed(live, hook, alice, bob):
    inc1, inc2 = incrementers(2)
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2)])
    board = board_of(live, protocol=protocol)
    assert not board.snapshot["variables"][0]["deployed"]
    protocol.deploy(alice, bob)
    live.after_cell()
    assert board.snapshot["variables"][0]["deployed"]
    assert board.value.count('<path class="arrow route"') == 2


def test_plan_views_hold_only_plain_data(live, hook, alice, bob, james):
    inc1, inc2 = incrementers(2)
    net = Net()
    net.build(torch.tensor([1.0, 2.0]))
    pn = net.send(bob)
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2)]).deploy(alice, bob)
    protocol.tag("my_protocol").send(james)
    [ptr_protocol] = sy.local_worker.request_search(["my_protocol"], location=james)
    board = board_of(live, pn=pn, protocol=protocol, ptr_protocol=ptr_protocol)
    kinds = {v["name"]: v["kind"] for v in board.snapshot["variables"]}
    assert kinds == {"pn": "plan_pointer", "protocol": "protocol", "ptr_protocol": "protocol_pointer"}
    text = json.dumps(board.snapshot)  # no tensors, records or pointers: plain JSON
    assert json.loads(text) == board.snapshot
    views = [board, live.worker_view(bob), live.worker_view(james)]
    for view in views:
        for value in view.snapshot.values():
            assert not isinstance(value, (torch.Tensor, PlanRecord, StoredProtocol))
    assert ">PointerProtocol</text>" in board.value


# --- in a real kernel, then in JupyterLab ---------------------------------------------------
# Part 08 bis: three plans, three workers made in another order than the protocol visits them.
PART08BIS_CELLS = [
    "%load_ext jupyter_syft",
    "import torch as th\nimport syft as sy\nhook = sy.TorchHook(th)\n"
    + "".join(f"@sy.func2plan(args_shape=[(1,)])\ndef inc{i}(x):\n    return x + 1\n" for i in (1, 2, 3))
    + "bob = sy.VirtualWorker(hook, id='bob')\nalice = sy.VirtualWorker(hook, id='alice')\n"
    "charlie = sy.VirtualWorker(hook, id='charlie')",
    "protocol = sy.Protocol([('worker1', inc1), ('worker2', inc2), ('worker3', inc3)])\n"
    "draft = sy.Protocol([('worker1', inc1), ('worker2', inc2), ('worker3', inc3)])",
    "%syft",
    "protocol.deploy(alice, bob, charlie)\npp = inc1.send(bob)",
    "ptr = protocol.run(th.tensor([1.0]))",
    "bob._objects",
]


def test_kernel_dashboard_state_draws_part08bis(tmp_path):
    """The notebook's namespace feeds the dashboard: a Protocol and a PointerPlan are variables
    (the saved widget state is the board as it was after the last cell)."""
    cells = PART08BIS_CELLS + [
        "import json\nprint(json.dumps({'plans': [p.id_at_location for _, p in protocol.plans], "
        "'pp': [pp.id, pp.id_at_location], 'ptr': ptr.id_at_location}))"]
    nb = executed(cells, tmp_path)
    facts = json.loads(nb.cells[-1].outputs[0]["text"])
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    [board] = _dashboard_states(nb)
    variables = {v["name"]: v for v in board["variables"]}
    assert set(variables) == {"protocol", "draft", "pp", "ptr"}
    steps = variables["protocol"]["steps"]
    assert [s["path"][1] for s in steps] == [["alice", facts["plans"][0]], ["bob", facts["plans"][1]],
                                             ["charlie", facts["plans"][2]]]
    assert [s["plan"] for s in steps] == ["inc1", "inc2", "inc3"]
    assert not variables["draft"]["deployed"] and [s["worker"] for s in variables["draft"]["steps"]] == [
        "worker1", "worker2", "worker3"]
    assert variables["pp"]["path"] == [["me", facts["pp"][0]], ["bob", facts["pp"][1]]]
    assert variables["ptr"]["path"][1] == ["charlie", facts["ptr"]]  # where the route ends
    bob = next(w for w in board["workers"] if w["worker_id"] == "bob")
    assert sorted(r["name"] for r in bob["rows"] if r.get("kind") == "plan") == ["inc1", "inc2"]
    # bob._objects: the inline worker view lists bob's plans as plans
    [objects] = [m["state"]["snapshot"] for m in state.values()
                 if m["state"].get("worker_id") == "bob"]
    assert [r.get("kind") for r in objects["rows"]] == ["plan", "plan"]


# the browser tests' JupyterLab set-up (playwright and Debian's chromium), shared
from test_browser import ARTIFACTS, BOARD_TEXTS, assert_fits, browser_page, lab_with_notebook, run_cell  # noqa: E402,F401


def test_jupyterlab_dashboard_and_panel_draw_a_protocol(browser_page, tmp_path):  # noqa: F811 (a fixture)
    page = browser_page
    server = lab_with_notebook(page, tmp_path, "part08bis", PART08BIS_CELLS)
    try:
        page.evaluate("window.jupyterapp.shell.activateById('jupyter-syft-panel')")
        panel = page.locator("#jupyter-syft-panel")
        for source in PART08BIS_CELLS[:3]:
            run_cell(page, source)
        board = run_cell(page, "%syft")
        board.locator(".jsyft-board svg").wait_for()
        texts = board.evaluate(BOARD_TEXTS)
        assert texts.count("worker1 → worker2 → worker3") == 2, texts  # two undeployed protocols
        assert board.locator("path.route").count() == 0

        run_cell(page, PART08BIS_CELLS[4])  # deploy, and send inc1 to bob: the dashboard follows
        page.wait_for_function("""() => document.querySelectorAll('.jsyft-board path.arrow.route').length === 3""")
        heads = board.evaluate("o => Array.from(o.querySelectorAll('svg text.h'), t => t.textContent)")
        assert heads == ["me", "alice", "bob", "charlie"]  # in the order x will travel
        steps = board.locator(".jsyft-board g.step").evaluate_all("els => els.map(e => e.dataset.step)")
        assert steps == ["1", "2", "3"]
        texts = board.evaluate(BOARD_TEXTS)
        assert "alice → bob → charlie" in texts and "PointerPlan inc1" in texts
        assert texts.count("1 op · built") == 4  # inc1 on alice, inc2 and inc1 on bob, inc3 on charlie
        assert_fits(board)

        # the side panel: plans as plans on each worker, the protocol as numbered steps
        bob_plans = panel.locator('.jsyft-panel-worker[data-worker-id="bob"] tr.jsyft-panel-plan')
        bob_plans.nth(1).wait_for()
        assert sorted(bob_plans.locator("td.jsyft-plan-name").all_inner_texts()) == ["inc1", "inc2"]
        assert bob_plans.first.locator(".jsyft-value").inner_text() == "1 op · built · no state tensors"
        route = panel.locator('li.jsyft-panel-variable[data-variable-name="protocol"] .jsyft-panel-step')
        route.nth(2).wait_for()
        assert route.evaluate_all("els => els.map(e => e.dataset.workerId)") == ["alice", "bob", "charlie"]
        assert route.locator(".jsyft-panel-hop-note").all_inner_texts() == ["inc1", "inc2", "inc3"]
        fictive = panel.locator('li.jsyft-panel-variable[data-variable-name="draft"] .jsyft-panel-step-fictive')
        assert fictive.evaluate_all("els => els.map(e => e.dataset.workerId)") == ["worker1", "worker2", "worker3"]
        pp_hop = panel.locator('li.jsyft-panel-variable[data-variable-name="pp"] .jsyft-panel-hop')
        assert pp_hop.get_attribute("data-worker-id") == "bob" and "plan inc1 · 1 op" in pp_hop.inner_text()

        run_cell(page, PART08BIS_CELLS[5])  # protocol.run(x): x ends on charlie
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.jsyft-board svg text'))
                                  .some(t => t.textContent === '[4]')""")
        objects = run_cell(page, "bob._objects")
        rows = objects.locator(".jsyft table tr.plan")
        assert rows.count() == 2 and "1 op · built · no state tensors" in rows.first.inner_text()
        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-dashboard-part08bis-protocol.png"))
        board.screenshot(path=str(ARTIFACTS / "lab-dashboard-part08bis-protocol-diagram.png"))
        panel.screenshot(path=str(ARTIFACTS / "lab-panel-part08bis-protocol.png"))
    finally:
        server.stop()
