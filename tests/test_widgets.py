"""Views without a kernel: what they show, how they follow the stores, and what they hold."""
import gc

import pytest
import torch

import jupyter_syft as sy
from jupyter_syft.ipython.output_cache import CachedPointer, weaken
from jupyter_syft.widgets import LiveViews, render, snapshot


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def live(bob):
    views = LiveViews(throttle=0.25, clock=FakeClock())
    views.attach()
    yield views
    views.detach()


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


def test_dashboard_draws_every_live_pointer(live, bob, alice):
    x = torch.tensor([1]).send(bob)
    y = torch.tensor([2]).send(alice)
    board = live.dashboard_view()
    assert {w["worker_id"] for w in board.workers} >= {"bob", "alice"}
    assert {(p["location"], p["id_at_location"]) for p in board.pointers} == {
        ("bob", x.id_at_location), ("alice", y.id_at_location)}
    assert board.value.count("<line") == 2 and f"bob:{x.id_at_location}" in board.value
    del x
    live.after_cell()
    assert [p["location"] for p in board.pointers] == ["alice"]


def test_views_hold_no_tensors_or_pointers(live, bob):
    x = torch.tensor([1.0]).send(bob)
    live.worker_view(bob)
    live.pointer_view(x)
    live.dashboard_view()
    for view in [*live.worker_views.values(), *live.pointer_views.values(), live.dashboard]:
        for referent in gc.get_referents(view.__dict__):
            assert not isinstance(referent, torch.Tensor)
    del x
    assert bob._objects == {}  # the views did not keep the pointer alive


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
