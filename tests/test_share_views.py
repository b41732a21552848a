"""Secret sharing in the live views (no kernel): a share is shown as what it is (random int64
numbers, badged "share 1/2 of secret #…"), the dashboard draws each shared value as one box split
across its workers, and the crypto provider's column counts what it dealt and flashes when it
deals more. Then in a kernel, and in JupyterLab with a screenshot."""
import gc
import json
import re

import pytest
import torch

from jupyter_syft.crypto import registry
from jupyter_syft.crypto.rng import FIELD
from jupyter_syft.widgets import render, sharing
from test_kernel import _dashboard_states, executed
from test_widgets import board_of, worker_of


@pytest.fixture(autouse=True)
def fresh_registry():
    """Shared values of earlier tests are gone, and the providers' counters start at zero."""
    gc.collect()
    registry.activity.reset()
    sharing.end_cell()
    yield
    registry.activity.reset()
    sharing.end_cell()


def secret_short(secret_id):
    return f"secret #{str(secret_id)[-4:]}"


def rows_by_id(snap):
    return {r["id"]: r for r in snap["rows"]}


def values(text):
    return [int(v) for v in re.findall(r"-?\d+", text)]


# --- a worker's view ------------------------------------------------------------------------------
def test_a_share_is_badged_with_its_secret_and_shows_its_random_numbers(live, bob, alice, james):
    x = torch.tensor([25, 3]).share(bob, alice, crypto_provider=james)
    on_bob, on_alice = (s._id_at_location for s in x._shares)
    bob_view, alice_view = live.worker_view(bob), live.worker_view(alice)
    row = rows_by_id(bob_view.snapshot)[on_bob]
    assert row["share"] == {"secret": x.secret_id, "k": 1, "n": 2, "encoding": "integers"}
    assert row["dtype"] == "int64" and row["shape"] == [2]
    assert rows_by_id(alice_view.snapshot)[on_alice]["share"]["k"] == 2
    # the preview is the share itself: random numbers, which add up to the secret with the others
    bob_numbers = values(row["preview"])
    alice_numbers = values(rows_by_id(alice_view.snapshot)[on_alice]["preview"])
    assert bob_numbers == bob._objects[on_bob].tolist() and bob_numbers != [25, 3]
    assert [(a + b) % FIELD for a, b in zip(bob_numbers, alice_numbers)] == [25, 3]
    html = bob_view.value
    assert f'<span class="badge share">share 1/2 of {secret_short(x.secret_id)}</span>' in html
    assert "meaningless alone" in html and '<tr class="share" title="share 1 of 2 of secret' in html
    assert "bob holds 1 share of 1 secret: each looks like random numbers" in html
    assert x.get().tolist() == [25, 3]
    live.after_cell()
    assert bob_view.snapshot["rows"] == [] and "share 1/2" not in bob_view.value


def test_fixed_precision_shares_say_what_they_encode(live, bob, alice, james):
    y = torch.tensor([1.5, -2.0]).fix_precision().share(bob, alice, crypto_provider=james)
    [row] = live.worker_view(bob).snapshot["rows"]
    assert row["share"] == {"secret": y.child.secret_id, "k": 1, "n": 2,
                            "encoding": "fixed precision (3 digits, base 10)"}
    badge, tip = render.share_badge(row)
    assert badge == f"share 1/2 of {secret_short(y.child.secret_id)}"
    assert "(fixed precision (3 digits, base 10))" in tip and "no single worker holds anything meaningful" in tip


def test_a_view_shown_before_the_sharing_finished_gets_its_badges_after_the_cell(live, bob, alice, james):
    """Shares reach the stores before the shared tensor that knows them is made: a refresh in
    between draws them plain, and the end of the cell labels them."""
    view = live.worker_view(bob)
    live._clock.now += 1
    seen = []
    view.observe(lambda change: seen.append(change["new"]), names="snapshot")
    x = torch.tensor([7]).share(bob, alice, crypto_provider=james)
    assert seen and "share" not in seen[0]["rows"][0]  # drawn mid-way, not yet known as a share
    live.after_cell()
    assert view.snapshot["rows"][0]["share"]["secret"] == x.secret_id


# --- the dashboard -------------------------------------------------------------------------------
def test_each_shared_value_is_one_box_split_across_its_workers(live, bob, alice, james):
    x = torch.tensor([25, 3]).share(bob, alice, crypto_provider=james)
    y = torch.tensor([1.5, -2.0]).fix_precision().share(bob, alice, crypto_provider=james)
    z = y * y
    ptr = torch.tensor([1, 2]).send(bob)
    board = board_of(live, x=x, y=y, z=z, ptr=ptr)
    snap = board.snapshot
    assert [v["name"] for v in snap["variables"]] == ["ptr"]  # a shared value is not a pointer
    shared = {v["names"][0]: v for v in snap["shared"]}
    assert set(shared) == {"x", "y", "z"} and snap["more_shared"] == 0
    assert shared["x"]["id"] == x.secret_id and shared["z"]["id"] == z.child.secret_id
    assert shared["x"]["shares"] == [{"worker": "bob", "id": x._shares[0]._id_at_location, "state": "live"},
                                     {"worker": "alice", "id": x._shares[1]._id_at_location, "state": "live"}]
    assert shared["y"]["encoding"].startswith("fixed precision") and shared["x"]["crypto_provider"] == "james"
    # every share is on the board, badged with its secret
    for worker, k in (("bob", 1), ("alice", 2)):
        badged = {r["share"]["secret"]: r["share"]["k"] for r in worker_of(board, worker)["rows"] if r.get("share")}
        assert badged == {v["id"]: k for v in shared.values()}
    assert snap["providers"] == {"james": {"triples": 1, "triple_elements": 2, "comparisons": 0, "compared": 0,
                                           "parties": ["bob", "alice"], "fresh": True}}

    html = board.value
    assert html.count('<g class="var secret">') == 3  # one box per shared value, not one per share
    assert html.count('<path class="arrow split"') == 6  # each box split across bob and alice
    assert html.count('<path class="arrow"') == 1  # ptr's pointer
    assert f"> {secret_short(x.secret_id)}</tspan>" in html and "(2,) fixed precision" in html
    assert f"x = {secret_short(x.secret_id)} (id {x.secret_id}): (2,), integers, split into 2 shares" in html
    assert f">share 1/2 · #{str(x.secret_id)[-4:]}</text>" in html
    columns = render.board_columns(snap)
    james_column = next(c for c in columns if c["key"] == "james")
    dealer = james_column["items"][0]["node"]
    assert dealer["line1"] == ("crypto provider", "b") and dealer["line2"] == ("1 triple · 0 comparisons", "m")
    assert "james is the crypto provider of bob, alice" in dealer["tip"]
    assert "Teal: a secret-shared value, one box split across its workers" in html


def test_the_provider_flashes_when_it_deals_and_its_listener_never_draws(live, bob, alice, james):
    y = torch.tensor([1.5, -2.0]).fix_precision().share(bob, alice, crypto_provider=james)
    names = {"y": y}
    live.variables = lambda: list(names.items())
    board = live.dashboard_view()
    assert "1 triple" not in board.value and 'class="dealer"' in board.value  # a provider of y already
    drawn = []
    live.refresh = lambda: drawn.append(1)  # the listener must only mark what changed
    registry.activity.record("james", "triple", 2, ["bob", "alice"])
    assert drawn == [] and live._dashboard_dirty
    del live.refresh
    names["z"] = y * y
    live.after_cell()
    assert board.snapshot["providers"]["james"]["triples"] == 2 and board.snapshot["providers"]["james"]["fresh"]
    assert '<g class="dealer fresh">' in board.value and ">2 triples · 0 comparisons</text>" in board.value
    assert "@keyframes jsyft-dealt" in board.value
    live.end_cell()
    names["w"] = torch.tensor([1]).share(bob, alice, crypto_provider=james)  # the next cell deals nothing
    live.after_cell()
    assert "fresh" not in board.snapshot["providers"]["james"] and '<g class="dealer">' in board.value


def test_a_comparison_s_masks_are_labelled_while_they_are_on_the_parties(live, bob, alice, james):
    x = torch.tensor([25, 3]).share(bob, alice, crypto_provider=james)
    live.variables = lambda: [("x", x)]
    live.dashboard_view()
    during = []

    def look():  # what a refresh during the comparison would draw
        during.append((live._worker_snapshot("bob"), live._dashboard_data()))
    registry.activity.subscribe(look)
    try:
        result = x > 4
    finally:
        registry.activity.unsubscribe(look)
    [(bob_snap, board)] = during
    dealt = [r["dealt"] for r in bob_snap["rows"] if r.get("dealt")]
    assert dealt == [{"provider": "james", "kind": "comparison", "part": "r"},
                     {"provider": "james", "kind": "comparison", "part": "bits"}]
    html = render.worker_html(bob_snap)
    assert '<span class="badge dealt">mask r from james</span>' in html
    assert "Masks from james (the crypto provider) are random too" in html
    svg = render.dashboard_html(board)
    assert svg.count('<path class="arrow dealt"') == 4  # james to its masks on bob and alice
    assert ">mask bits from james</text>" in svg
    assert result.get().tolist() == [1, 0]
    assert registry.activity.snapshot()["providers"]["james"]["comparisons"] == 1


def test_many_shared_values_are_capped(live, bob, alice, james):
    named = {f"v{i}": torch.tensor([i]).share(bob, alice, crypto_provider=james) for i in range(10)}
    unnamed = [torch.tensor([i]).share(bob, alice, crypto_provider=james) for i in range(3)]
    board = board_of(live, **named)
    snap = board.snapshot
    assert len(snap["shared"]) == sharing.MAX_SHARED and snap["more_shared"] == 13 - sharing.MAX_SHARED
    assert [v["names"][0] for v in snap["shared"]] == [f"v{i}" for i in range(sharing.MAX_SHARED)]
    assert board.value.count('<g class="var secret">') == sharing.MAX_SHARED
    assert f"+{13 - sharing.MAX_SHARED} more shared values" in board.value
    del unnamed


def test_a_value_held_under_two_names_and_a_shared_model(live, bob, alice, james):
    x = torch.tensor([1, 2]).share(bob, alice, crypto_provider=james)
    model = torch.nn.Linear(2, 1).fix_precision().share(bob, alice, crypto_provider=james)
    board = board_of(live, x=x, same=x, model=model)
    names = [v["names"] for v in board.snapshot["shared"]]
    assert names == [["x", "same"], ["model.weight"], ["model.bias"]]
    assert board.value.count('<g class="var secret">') == 3 and ">x, same</tspan>" in board.value
    assert board.snapshot["variables"] == []  # the model's parameters are shared, not remote


def test_a_shared_value_whose_shares_came_home(live, bob, alice, james):
    x = torch.tensor([5]).share(bob, alice, crypto_provider=james)
    board = board_of(live, x=x)
    x.get()
    live.after_cell()
    [entry] = board.snapshot["shared"]
    assert [s["state"] for s in entry["shares"]] == ["fetched", "fetched"]
    assert '<g class="var secret done">' in board.value and ">shares fetched</text>" in board.value
    assert 'class="arrow split"' not in board.value


def test_share_views_hold_only_plain_data(live, bob, alice, james):
    x = torch.tensor([25, 3]).share(bob, alice, crypto_provider=james)
    y = torch.tensor([1.5]).fix_precision().share(bob, alice, crypto_provider=james)
    z = y * y
    board = board_of(live, x=x, y=y, z=z)
    live.worker_view(bob)
    # every view's whole state survives JSON: ids, numbers and text, no tensor or pointer at
    # any depth (a one-level look at the view's __dict__ missed what its traits hold)
    for view in [*live.worker_views.values(), live.dashboard]:
        assert view.snapshot and json.loads(json.dumps(view.snapshot)) == view.snapshot
    live.variables = lambda: ()
    del x, y, z
    gc.collect()
    live.after_cell()
    assert registry.shared_values() == [] and board.snapshot["shared"] == []  # the views kept nothing alive


# --- in a real kernel, then in JupyterLab ---------------------------------------------------------
SHARING_CELLS = [
    "%load_ext jupyter_syft",
    "import torch, syft as sy\nhook = sy.TorchHook(torch)\n"
    "bob = sy.VirtualWorker(hook, id='bob')\nalice = sy.VirtualWorker(hook, id='alice')\n"
    "james = sy.VirtualWorker(hook, id='james')",
    "x = torch.tensor([25, 3]).share(bob, alice, crypto_provider=james)\n"
    "y = torch.tensor([1.5, -2.0]).fix_precision().share(bob, alice, crypto_provider=james)",
    "%syft",
    "z = y * y",
    "(x > 4).get()",
    "bob",
]


def test_kernel_dashboard_state_draws_shared_values(tmp_path):
    cells = SHARING_CELLS + ["import json\nprint(json.dumps([x.secret_id, y.child.secret_id, z.child.secret_id]))"]
    nb = executed(cells, tmp_path)
    ids = json.loads(nb.cells[-1].outputs[0]["text"])
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    [board] = _dashboard_states(nb)
    assert {v["names"][0]: v["id"] for v in board["shared"]} == dict(zip("xyz", ids))
    assert board["providers"]["james"]["triples"] == 1 and board["providers"]["james"]["comparisons"] == 1
    [bob_view] = [m["state"]["snapshot"] for m in state.values() if m["state"].get("worker_id") == "bob"]
    assert sorted(r["share"]["secret"] for r in bob_view["rows"]) == sorted(ids)  # (x > 4) is gone
    assert nb.cells[5].outputs[0]["data"]["text/plain"] == "tensor([1, 0])"


from test_browser import (ARTIFACTS, BOARD_TEXTS, KERNEL_IDLE, assert_fits, browser_page,  # noqa: E402,F401
                          lab_with_notebook, run_cell)


# Comparisons of 20,000 numbers in a loop: while each runs, james's masks sit on bob and alice
# until it has used them up.
# Long enough for a throttled refresh to catch masks in flight on a busy machine (6 rounds
# were over before one was drawn at load 8).
COMPARE_ROUNDS = 40
COMPARE_LOOP = ("big = torch.arange(20000).share(bob, alice, crypto_provider=james)\n"
                f"for i in range({COMPARE_ROUNDS}):\n    c = big > i")


def test_jupyterlab_draws_shared_values_share_by_share(browser_page, tmp_path):  # noqa: F811 (a fixture)
    page = browser_page
    server = lab_with_notebook(page, tmp_path, "sharing", SHARING_CELLS + [COMPARE_LOOP])
    try:
        page.evaluate("window.jupyterapp.shell.activateById('jupyter-syft-panel')")
        panel = page.locator("#jupyter-syft-panel")
        for source in SHARING_CELLS[:3]:
            run_cell(page, source)
        board = run_cell(page, "%syft")
        board.locator(".jsyft-board svg").wait_for()
        assert board.locator("g.secret").count() == 2 and board.locator("path.arrow.split").count() == 4
        texts = board.evaluate(BOARD_TEXTS)
        assert "crypto provider" in texts and "0 triples · 0 comparisons" in texts, texts

        run_cell(page, SHARING_CELLS[4])  # z = y * y: a third box, and james dealt a triple
        page.wait_for_function("""() => document.querySelectorAll('.jsyft-board g.secret').length === 3""")
        board.locator("g.dealer.fresh").wait_for()
        assert "1 triple · 0 comparisons" in board.evaluate(BOARD_TEXTS)
        run_cell(page, SHARING_CELLS[5])  # a comparison
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.jsyft-board svg text'))
                                  .some(t => t.textContent === '1 triple · 1 comparison')""")
        texts = board.evaluate(BOARD_TEXTS)
        for name in ("x", "y", "z"):  # one box each: its name, then which secret it is
            assert sum(re.fullmatch(name + r" secret #\d{4}", t) is not None for t in texts) == 1, (name, texts)
        for text in ("(2,) integers", "(2,) fixed precision", "bob", "alice", "james"):
            assert text in texts, (text, texts)
        assert sum(t.startswith("share 1/2 · #") for t in texts) == 3
        assert sum(t.startswith("share 2/2 · #") for t in texts) == 3
        assert board.locator("path.arrow.split").count() == 6
        heads = board.evaluate("o => Array.from(o.querySelectorAll('svg text.h'), t => t.textContent)")
        assert heads == ["me", "bob", "alice", "james"]
        assert_fits(board)

        bob = run_cell(page, "bob")  # bob's own view: three shares, random numbers, badged
        badges = bob.locator(".jsyft .badge.share").all_inner_texts()
        assert len(badges) == 3 and all(re.fullmatch(r"share 1/2 of secret #\d{4}", b) for b in badges), badges
        assert "meaningless alone" in bob.inner_text()

        # the side panel: the shared values, each share badged, james's counters
        secrets = panel.locator("li.jsyft-panel-secret")
        secrets.nth(2).wait_for()
        x_item = panel.locator("li.jsyft-panel-secret", has=page.locator(".jsyft-panel-variable-name", has_text="x"))
        hops = x_item.first.locator(".jsyft-panel-hop")
        assert hops.evaluate_all("els => els.map(e => e.dataset.workerId)") == ["bob", "alice"]
        assert hops.first.locator(".jsyft-panel-hop-note").inner_text().startswith("share 1/2 [")
        panel_badges = panel.locator('.jsyft-panel-worker[data-worker-id="alice"] .jsyft-panel-badge-share')
        assert panel_badges.count() == 3 and panel_badges.first.inner_text().startswith("share 2/2 of secret #")
        dealer = panel.locator('.jsyft-panel-worker[data-worker-id="james"] .jsyft-panel-dealer')
        assert dealer.inner_text() == "crypto provider · 1 triple · 1 comparison"

        board.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "lab-dashboard-shares.png"))
        board.screenshot(path=str(ARTIFACTS / "lab-dashboard-shares-diagram.png"))
        bob.screenshot(path=str(ARTIFACTS / "lab-worker-shares.png"))
        panel.screenshot(path=str(ARTIFACTS / "lab-panel-shares.png"))

        # while comparisons run, the masks james dealt show on the parties, with arrows from
        # james; the cell's end has used them all up
        board.scroll_into_view_if_needed()
        run_cell(page, COMPARE_LOOP, wait=False)
        page.wait_for_function("""() => {
            const board = document.querySelector('.jsyft-board');
            const masks = Array.from(board.querySelectorAll('g.dealt text'), t => t.textContent);
            return masks.filter(t => t.startsWith('mask ')).length >= 3 && masks.includes('mask r from james')
                && board.querySelectorAll('path.arrow.dealt').length >= 3
                && board.querySelector('g.dealer.fresh') !== null; }""", timeout=60_000)
        board.screenshot(path=str(ARTIFACTS / "lab-dashboard-shares-dealing-diagram.png"))
        page.wait_for_function(KERNEL_IDLE, timeout=60_000)
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.jsyft-board svg text'))
                                  .some(t => t.textContent === '1 triple · %d comparisons')""" % (COMPARE_ROUNDS + 1))
        assert board.locator("g.dealt").count() == 0  # all used up
        dealer.scroll_into_view_if_needed()
        assert dealer.inner_text() == f"crypto provider · 1 triple · {COMPARE_ROUNDS + 1} comparisons"
        panel.screenshot(path=str(ARTIFACTS / "lab-panel-shares-provider.png"))
    finally:
        server.stop()
