"""Views without a kernel: what they show, how they follow the stores, and what they hold."""
import gc
import json

import pytest
import torch

import jupyter_syft as sy
from jupyter_syft.ipython.output_cache import CachedPointer, weaken
from jupyter_syft.widgets import render, snapshot





def ids_shown(view):
    return [row["id"] for row in view.snapshot["rows"]]


def test_worker_view_shows_objects_and_follows_the_store(live, bob):
    x = torch.tensor([1.0, 2.0], requires_grad=True).send(bob)
    view = live.worker_view(bob)
    assert repr(view) == "WorkerView(bob)"
    assert view.snapshot["count"] == 1 and ids_shown(view) == [x.id_at_location]
    row = view.snapshot["rows"][0]
    assert row == {"id": x.id_at_location, "dtype": "float32", "shape": [2], "requires_grad": True,
                   "grad": False, "preview": "[1, 2]", "tags": []}
    assert str(x.id_at_location) in view.value and "float32" in view.value
    y = torch.tensor([3]).send(bob)
    assert ids_shown(view) == [x.id_at_location]  # not yet: refreshed after the cell
    live.after_cell()
    assert ids_shown(view) == [x.id_at_location, y.id_at_location]
    y.get()
    live.after_cell()
    assert ids_shown(view) == [x.id_at_location]
    assert live.worker_view(bob) is view  # one long-lived view per worker


def test_long_cells_refresh_at_most_every_throttle_interval(live, bob):
    view = live.worker_view(bob)
    updates = []
    view.observe(lambda change: updates.append(change["new"]["count"]), names="snapshot")
    x = torch.ones(1).send(bob)
    for _ in range(1000):
        x = x + 1  # 2,000 store events
    assert updates == []  # the clock did not move: no refresh mid-cell
    live._clock.now += 0.3
    x = x + 1
    assert len(updates) == 1
    live.after_cell()
    assert view.snapshot["count"] == 1


def test_pointer_view_states(live, bob):
    a = torch.tensor([1, 2]).send(bob)
    b = torch.tensor([3]).send(bob)
    c = torch.tensor([4]).send(bob, garbage_collect_data=False)
    views = {name: live.pointer_view(p) for name, p in (("a", a), ("b", b), ("c", c))}
    assert views["a"].snapshot == {"id": a.id, "owner": "me", "location": "bob",
                                   "id_at_location": a.id_at_location, "shape": [2],
                                   "dtype": "int64", "state": "live"}
    assert repr(views["a"]) == f"PointerView(me:{a.id} → bob:{a.id_at_location})"
    a.get()
    del b, c
    live.after_cell()
    assert [views[n].snapshot["state"] for n in "abc"] == ["fetched", "deleted", "dropped"]
    assert "fetched" in views["a"].value


def test_gone_worker(live, hook):
    carol = sy.VirtualWorker(hook, id="carol_gone")
    view = live.worker_view(carol)
    sy.remove_worker(carol)
    live.after_cell()
    assert view.snapshot["gone"] and "worker is gone" in view.value


def board_of(live, **variables):
    live.variables = lambda: list(variables.items())
    return live.dashboard_view()


def worker_of(board, worker_id):
    return next(w for w in board.snapshot["workers"] if w["worker_id"] == worker_id)


def test_dashboard_draws_a_chain_me_alice_bob(live, bob, alice):
    x_ptr = torch.tensor([1, 2, 3, 4]).send(bob)
    pointer_to_x_ptr = x_ptr.send(alice)  # alice keeps a pointer to bob's tensor
    remote = x_ptr.id_at_location
    kept = pointer_to_x_ptr.id_at_location  # alice's pointer, under its id in alice's store
    names = {"x_ptr": x_ptr, "pointer_to_x_ptr": pointer_to_x_ptr}
    live.variables = lambda: list(names.items())
    board = live.dashboard_view()
    snap = board.snapshot
    assert snap["version"] == snapshot.BOARD_VERSION and repr(board) == "Dashboard()"
    by_name = {v["name"]: v for v in snap["variables"]}
    assert by_name["pointer_to_x_ptr"]["path"] == [["me", pointer_to_x_ptr.id], ["alice", kept], ["bob", remote]]
    assert by_name["x_ptr"]["path"] == [["me", x_ptr.id], ["bob", remote]]
    assert {v["end"] for v in by_name.values()} == {"tensor"}
    [alice_row] = worker_of(board, "alice")["rows"]
    assert alice_row["id"] == kept and alice_row["pointer"] == ["bob", remote]
    assert alice_row["preview"] == f"→ bob:{remote}"

    columns = render.board_columns(snap)
    assert [c["key"] for c in columns[:3]] == ["me", "alice", "bob"]  # the chain reads left to right
    html = board.value
    assert "pointer_to_x_ptr" in html and "x_ptr" in html and "[1, 2, 3, 4]" in html
    assert html.count('<path class="arrow"') == 3  # x_ptr -> bob, pointer_to_x_ptr -> alice -> bob
    assert f"pointer_to_x_ptr: me:{pointer_to_x_ptr.id} → alice:{kept} → bob:{remote}" in html  # its tooltip

    # Part 03: .get() brings alice's pointer home, then the tensor
    x_ptr = names["x_ptr"] = pointer_to_x_ptr.get()
    live.after_cell()
    by_name = {v["name"]: v for v in board.snapshot["variables"]}
    assert by_name["x_ptr"]["path"] == [["me", kept], ["bob", remote]] and by_name["x_ptr"]["end"] == "tensor"
    assert by_name["pointer_to_x_ptr"]["state"] == "fetched"
    assert worker_of(board, "alice")["rows"] == [] and board.value.count('<path class="arrow"') == 1
    x = x_ptr.get()
    live.after_cell()
    assert torch.equal(x, torch.tensor([1, 2, 3, 4]))
    assert {v["state"] for v in board.snapshot["variables"]} == {"fetched"}
    assert board.value.count('<path class="arrow"') == 0 and "fetched" in board.value


def test_dashboard_follows_the_namespace(live, bob):
    x = torch.tensor([1]).send(bob)
    names = {"x": x}
    live.variables = lambda: list(names.items())
    board = live.dashboard_view()
    assert [v["name"] for v in board.snapshot["variables"]] == ["x"]
    names["y"] = x  # a new name for the same pointer: no store event, still drawn after the cell
    live.after_cell()
    assert [v["name"] for v in board.snapshot["variables"]] == ["x", "y"]
    assert board.value.count('<path class="arrow"') == 2
    del names["x"], names["y"], x
    live.after_cell()
    assert board.snapshot["variables"] == [] and "(no pointers yet)" in board.value


def test_a_remote_model_is_one_group(live, bob):
    model = torch.nn.Linear(2, 1).send(bob)
    data = torch.ones(4, 2).send(bob)
    board = board_of(live, data=data, model=model, local_model=torch.nn.Linear(1, 1))
    snap = board.snapshot
    weight, bias = model.weight.id_at_location, model.bias.id_at_location
    assert snap["groups"] == [{"worker_id": "bob", "name": "model", "type": "Linear",
                               "params": [{"name": "weight", "id": weight}, {"name": "bias", "id": bias}]}]
    entry = next(v for v in snap["variables"] if v["name"] == "model")
    assert entry["kind"] == "model" and entry["type"] == "Linear"
    assert [(p["name"], p["path"][1]) for p in entry["params"]] == [("weight", ["bob", weight]), ("bias", ["bob", bias])]
    assert [v["name"] for v in snap["variables"]] == ["data", "model"]  # a local model is not drawn

    [_, bob_column] = render.board_columns(snap)
    [group] = [item["group"] for item in bob_column["items"] if "group" in item]
    assert [n["line1"][0] for n in group["nodes"]] == ["weight ∇", "bias ∇"]
    loose = [item["node"]["key"][1] for item in bob_column["items"] if "node" in item]
    assert loose == [data.id_at_location]  # the parameters are not drawn again as loose tensors
    html = board.value
    assert 'class="grp"' in html and ">model</tspan>" in html and ">Linear</tspan>" in html
    assert html.count('<path class="arrow"') == 2  # data -> its tensor, model -> its group

    layer = model  # a second name for the model: one group, two arrows to it
    board = board_of(live, model=model, layer=layer)
    assert len(board.snapshot["groups"]) == 1 and board.value.count('<path class="arrow"') == 2


def test_a_moved_model_and_a_multi_pointer(live, bob, alice):
    model = torch.nn.Linear(2, 1).send(bob)
    model.move(alice)
    both = torch.tensor([1.0, 2.0]).send(bob, alice)
    board = board_of(live, model=model, both=both)
    assert [(g["worker_id"], g["name"]) for g in board.snapshot["groups"]] == [("alice", "model")]
    multi = next(v for v in board.snapshot["variables"] if v["name"] == "both")
    assert multi["kind"] == "multi" and [p["path"][1][0] for p in multi["pointers"]] == ["bob", "alice"]
    assert board.value.count('<path class="arrow"') == 3


def test_traffic_line(live, bob):
    assert render.traffic_lines({"messages": 0, "bytes_in": 0, "bytes_out": 0, "bytes_got": 0}) == [
        ("0 msgs · in 0 B · out 0 B", ""), ("left via .get(): nothing", "ok")]
    x = torch.arange(1000.0).send(bob)
    y = (x * 2).sum()
    board = board_of(live, x=x, y=y)
    traffic = worker_of(board, "bob")["traffic"]
    assert traffic == bob.traffic and traffic["bytes_got"] == 0 and traffic["messages"] == 3
    assert "left via .get(): nothing" in board.value
    y.get()
    live.after_cell()
    traffic = worker_of(board, "bob")["traffic"]
    assert 0 < traffic["bytes_got"] < 100  # one float came home; x's 4 kB never left bob
    assert traffic["bytes_in"] > 4000  # x went there
    assert f"left via .get(): {traffic['bytes_got']} B" in board.value
    assert render.human_bytes(4160) == "4.2 kB" and render.human_bytes(12_500_000) == "12.5 MB"
    count = traffic["messages"]
    x.add_(1)  # in place (an optimizer step): a message but no store event; redrawn after the cell
    live.after_cell()
    bob_board = worker_of(board, "bob")
    assert bob_board["traffic"]["messages"] == count + 1
    assert bob_board["rows"][0]["preview"].startswith("[1, 2, 3")


def test_a_worker_view_of_a_chain_sends_nothing(live, bob, alice):
    ptr = torch.tensor([1.0, 2.0], requires_grad=True).send(bob).send(alice)
    inner = alice._objects[ptr.id_at_location]  # alice's pointer to bob's tensor
    before = dict(bob.traffic), len(bob._objects)
    view = live.worker_view(alice)
    row = view.snapshot["rows"][0]
    assert row["pointer"] == ["bob", inner.id_at_location] and row["id"] == ptr.id_at_location
    assert row["shape"] == [2] and row["dtype"] == "float32" and row["requires_grad"]
    assert (dict(bob.traffic), len(bob._objects)) == before  # drawn from metadata: no message to bob


def test_a_recreated_worker_gets_a_fresh_view(live, hook):
    carol = sy.VirtualWorker(hook, id="carol_again")
    torch.tensor([1]).send(carol, garbage_collect_data=False)
    old = live.worker_view(carol)
    assert old.snapshot["count"] == 1
    sy.remove_worker(carol)
    carol = sy.VirtualWorker(hook, id="carol_again")
    torch.tensor([2, 3]).send(carol, garbage_collect_data=False)
    new = live.worker_view(carol)
    live.after_cell()
    try:
        assert new is not old
        assert old.snapshot["gone"] and "worker is gone" in old.value  # the old output stays true
        assert not new.snapshot["gone"] and [r["preview"] for r in new.snapshot["rows"]] == ["[2, 3]"]
        board = live.dashboard_view()
        assert [w["count"] for w in board.snapshot["workers"] if w["worker_id"] == "carol_again"] == [1]
    finally:
        sy.remove_worker(carol)


def test_a_chain_through_a_removed_worker(live, hook, bob):
    dave = sy.VirtualWorker(hook, id="dave_gone")
    ptr = torch.tensor([1]).send(dave)
    board = board_of(live, ptr=ptr)
    sy.remove_worker(dave)
    live.after_cell()
    [entry] = board.snapshot["variables"]
    assert entry["end"] == "gone" and "dave_gone: worker gone" in board.value
    assert [w["worker_id"] for w in board.snapshot["workers"]].count("dave_gone") == 0


def test_views_hold_no_tensors_or_pointers(live, bob, alice):
    x = torch.tensor([1.0]).send(bob)
    chained = torch.tensor([2.0]).send(bob).send(alice)
    model = torch.nn.Linear(1, 1).send(bob)
    names = {"x": x, "chained": chained, "model": model}
    live.variables = lambda: list(names.items())
    live.worker_view(bob)
    live.pointer_view(x)
    board = live.dashboard_view()
    json.dumps(board.snapshot)  # plain data only
    for view in [*live.worker_views.values(), *live.pointer_views.values(), live.dashboard]:
        for referent in gc.get_referents(view.__dict__):
            assert not isinstance(referent, torch.Tensor)
    names.clear()
    del x, chained, model
    assert bob._objects == {} and alice._objects == {}  # the views kept nothing alive


def test_a_big_worker_renders_only_its_first_page(bob):
    # how fast that is, is measured in bench/bench_extension.py
    objects = {i: torch.tensor([float(i)]) for i in range(100_000)}
    snap = snapshot.worker_snapshot("bob", objects)
    text = render.worker_html(snap)
    assert snap["count"] == 100_000 and len(snap["rows"]) == snapshot.PAGE_SIZE
    assert [r["id"] for r in snap["rows"]] == list(range(snapshot.PAGE_SIZE))
    assert "… and 99950 more" in text and text.count("<tr>") == snapshot.PAGE_SIZE + 1


def test_preview_is_short():
    row = snapshot.object_row(1, torch.arange(100.0))
    assert row["preview"].startswith("[0, 1, 2") and row["preview"].endswith("…]")
    assert len(snapshot.object_row(2, torch.full((3,), 123456.789)).get("preview")) <= snapshot.PREVIEW_CHARS


def test_cached_pointer_is_weak_but_usable(bob):
    x = torch.tensor([1.0, 2.0]).send(bob)
    cached = weaken(x)
    assert isinstance(cached, CachedPointer) and repr(cached) == repr(x)
    assert torch.equal((cached + cached).get(), torch.tensor([2.0, 4.0]))
    assert torch.equal(torch.add(cached, x).get(), torch.tensor([2.0, 4.0]))
    assert cached.location is bob and cached.shape == (2,)
    text = repr(x)
    del x
    assert bob._objects == {}
    assert repr(cached) == text + " (deleted)"
    with pytest.raises(sy.PointerFetchedError, match="was deleted"):
        cached.get()
    assert weaken(5) == 5 and weaken([1, 2]) == [1, 2]
    y = torch.tensor([1]).send(bob)
    pair = weaken((y, 3))
    assert isinstance(pair, tuple) and isinstance(pair[0], CachedPointer) and pair[1] == 3
    listed = weaken([y])
    assert isinstance(listed, list) and isinstance(listed[0], CachedPointer)


def test_preview_of_an_expanded_tensor_reads_only_what_it_shows():
    huge = torch.arange(4.0).reshape(4, 1).expand(4, 10**9)  # 4e9 elements over 4 stored ones
    row = snapshot.object_row(1, huge)
    assert row["preview"] == "[0, 0, 0, 0, 0, 0, 0, 0, …]" and row["shape"] == [4, 10**9]


def test_containers_of_displayed_pointers_are_cached_weakly(bob):
    p = torch.tensor([1.0]).send(bob)
    cached = [weaken({"a": p}), weaken(((p,),)), weaken({p}), weaken(torch.max(torch.stack([p, p]), 0))]
    assert isinstance(cached[0]["a"], CachedPointer) and isinstance(cached[1][0][0], CachedPointer)
    assert isinstance(next(iter(cached[2])), CachedPointer)
    assert type(cached[3]) is torch.return_types.max and isinstance(cached[3].values, CachedPointer)
    del p
    assert bob._objects == {}


def test_finished_pointer_views_are_closed_beyond_a_limit(live, bob):
    live.MAX_FINISHED_POINTER_VIEWS = 5
    for i in range(20):
        ptr = torch.tensor([i]).send(bob)
        live.pointer_view(ptr)
        ptr.get()
        live.after_cell()
    assert len(live.pointer_views) <= 6
    assert all(v.snapshot["state"] == "fetched" for v in live.pointer_views.values())


def test_an_odd_variable_does_not_freeze_the_dashboard(live, bob):
    class Forgot(torch.nn.Module):
        def __init__(self):  # no super().__init__(): constructs, but has no _parameters
            self.hidden = 3

    class Proxy:
        @property
        def __class__(self):
            raise RuntimeError("a lazy proxy")

    names = {"net": Forgot(), "proxy": Proxy()}
    live.variables = lambda: list(names.items())
    board = live.dashboard_view()
    names["y"] = torch.tensor([1]).send(bob)
    live.after_cell()
    assert [v["name"] for v in board.snapshot["variables"]] == ["y"]


def test_a_remote_layer_put_into_a_local_model_redraws_the_board(live, bob):
    remote_fc = torch.nn.Linear(2, 1).send(bob)
    net = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    names = {"remote_fc": remote_fc, "net": net}
    live.variables = lambda: list(names.items())
    board = live.dashboard_view()
    assert [v["name"] for v in board.snapshot["variables"]] == ["remote_fc"]
    net[2] = remote_fc  # no name rebound, no message sent
    live.after_cell()
    assert [v["name"] for v in board.snapshot["variables"]] == ["remote_fc", "net"]


def test_a_worker_named_param_keeps_its_arrows(live, hook, bob):
    param = sy.VirtualWorker(hook, id="param")
    try:
        v, u = torch.tensor([1]).send(param), torch.tensor([2]).send(bob)
        board = board_of(live, v=v, u=u)
        assert board.value.count('<path class="arrow"') == 2
    finally:
        sy.remove_worker(param)


def test_a_cycle_between_workers_ends_as_a_cycle(bob, alice):
    from jupyter_syft.codec import PointerDesc, encode

    # made through the codec: alice keeps a pointer to bob's 11, bob one to alice's 22
    alice.recv_msg(encode(["store", [], PointerDesc("bob", 11, 22, (1,), torch.float32, False), 22]))
    bob.recv_msg(encode(["store", [], PointerDesc("alice", 22, 11, (1,), torch.float32, False), 11]))
    path, end = snapshot.chain(alice._store.objects[22])
    assert end == "cycle" and len(path) <= 4
    bob.clear_objects()


def test_training_view_follows_the_loader_and_the_losses(live, bob, alice):
    from jupyter_syft import training

    data = torch.utils.data.TensorDataset(torch.randn(10, 3), torch.randn(10))
    loader = sy.FederatedDataLoader(data.federate((bob, alice)), batch_size=2)
    for x, y in loader:  # nobody watches yet: nothing is recorded
        ((x.sum(1) - y) ** 2).mean().get()
    assert training.log.losses == {} and not training.log.listeners
    view = live.training_view()
    assert repr(view) == "TrainingView()" and "waiting for a FederatedDataLoader" in view.value
    live._clock.now += 1
    seen = []
    for x, y in loader:
        ((x.sum(1) - y) ** 2).mean().get()
        live._clock.now += 1  # past the throttle: the view keeps up while the loop runs
        seen.append(sum(done for done, _ in view.snapshot.get("progress", {}).values()))
    assert seen[-1] >= 3 and seen == sorted(seen)  # it moved during the loop, not only after
    live.refresh()
    snap = view.snapshot
    assert snap["epoch"] == 1 and snap["progress"] == {"bob": [3, 3], "alice": [3, 3]}
    assert [len(v) for v in snap["losses"].values()] == [3, 3]
    assert view.value.count("<polyline") == 2 and "3/3 batches" in view.value
    json.dumps(snap)  # numbers and ids only
    live.detach()
    assert not training.log.listeners  # a detached view stops the recording


def test_the_training_log_keeps_memory_and_views_bounded():
    from jupyter_syft.training import MAX_POINTS, TrainingLog

    log = TrainingLog()
    for i in range(3 * MAX_POINTS):
        log.loss("bob", float(i))
    assert len(log.losses["bob"]) <= MAX_POINTS and log.losses["bob"][-1] == 3 * MAX_POINTS - 1
    snap = log.snapshot(points=400)
    assert len(snap["losses"]["bob"]) == 400 and snap["losses"]["bob"][-1] == 3 * MAX_POINTS - 1
    assert render.training_html(snap).count("<polyline") == 1
