"""Tags, descriptions and search (Part 05), printed as PySyft 0.2.4 printed them."""
import pytest
import torch

import jupyter_syft as sy
from jupyter_syft import codec
from jupyter_syft.codec import ExtDecoder

BOSTON = "The input datapoints to the boston housing dataset."


def tagged(values=(1, 2, 3, 4, 5), *labels, description=BOSTON):
    return torch.tensor(list(values)).tag(*(labels or ("#fun", "#boston", "#housing"))).describe(description)


def test_tagging_chains_and_prints_as_pysyft(hook):
    x = tagged()
    assert x.tags == ["#fun", "#boston", "#housing"] and x.description == BOSTON
    assert repr(x) == ("tensor([1, 2, 3, 4, 5])\n\tTags: #fun #boston #housing \n"
                       f"\tDescription: {BOSTON}...\n\tShape: torch.Size([5])")
    assert repr(x + 1) == "tensor([2, 3, 4, 5, 6])"  # results are plain tensors
    assert type(x + 1) is torch.Tensor and torch.equal(x * 2, torch.tensor([2, 4, 6, 8, 10]))
    plain = torch.tensor([1])
    assert plain.tags == [] and plain.description is None and repr(plain) == "tensor([1])"


def test_tags_travel_with_send(bob):
    x = tagged().send(bob)
    assert repr(x) == (f"(Wrapper)>[PointerTensor | me:{x.id} -> bob:{x.id_at_location}]\n"
                       "\tTags: #fun #boston #housing \n\tShape: torch.Size([5])\n"
                       f"\tDescription: {BOSTON}...")
    stored = bob._objects[x.id_at_location]
    assert stored.tags == ["#fun", "#boston", "#housing"] and stored.description == BOSTON
    with pytest.raises(ValueError, match="before sending"):
        x.tag("#late")


def test_worker_search_is_an_and_over_tags_and_returns_its_own_objects(bob):
    x, y = tagged().send(bob), tagged().send(bob)
    z = torch.tensor([1, 2, 3, 4, 5]).tag("#fun", "#mnist").describe("The images.").send(bob)
    results = bob.search(["#boston", "#housing"])
    assert [r.tags for r in results] == [["#fun", "#boston", "#housing"]] * 2
    assert not isinstance(results[0], sy.PointerTensor)  # bob's own tensors, as in PySyft
    assert results[0].description == BOSTON
    assert len(bob.search("#fun")) == 3 and bob.search(["#mnist", "#boston"]) == []
    assert bob.search(["#nothing", "#boston"]) == []  # an AND, also when the first term misses
    assert len(bob.search([])) == 3  # every tagged object
    assert bob.search(x.id_at_location)[0] is bob._objects[x.id_at_location]  # by id
    assert bob.search(str(z.id_at_location)) == []  # a string is a tag: ids are ints, as in PySyft
    del y
    assert len(bob.search("#boston")) == 1  # after a delete
    x.get()
    assert bob.search("#boston") == []  # after a get
    assert len(bob._objects) == 1


def test_search_on_an_empty_worker_and_bad_queries(bob):
    assert bob.search("#boston") == [] and sy.local_worker.request_search("#x", location=bob) == []
    for bad in (3.5, None, [b"#x"], [["#x"]], ["#x" * 200], True):
        with pytest.raises(TypeError):
            bob.search(bad)
        with pytest.raises(TypeError):
            sy.local_worker.request_search(bad, location=bob)


def test_request_search_gives_pointers_that_do_not_delete(bob):
    x = tagged().send(bob)
    [found] = sy.local_worker.request_search(["#boston"], location=bob)
    assert isinstance(found, sy.PointerTensor) and found.location is bob
    assert found.id_at_location == x.id_at_location and found.id != x.id
    assert found.tags == ["#fun", "#boston", "#housing"] and found.shape == (5,)
    assert torch.equal((found + 1).get(), torch.tensor([2, 3, 4, 5, 6]))
    del found
    assert len(bob._objects) == 1  # the search result did not own bob's tensor


def test_grid_search_groups_pointers_by_worker(bob, alice):
    a = tagged().tag("#data").send(alice)
    b = tagged().tag("#target").send(bob)
    c = torch.tensor([0]).tag("#other").send(bob)
    grid = sy.PrivateGridNetwork(bob, alice)
    found = grid.search("#boston")
    assert list(found) == ["bob", "alice"]
    assert [p.id_at_location for p in found["bob"]] == [b.id_at_location]
    assert list(grid.search("#boston", "#data")) == ["alice"]
    assert grid.search("#nothing") == {}
    assert c.shape == (1,) and a.location is alice


def test_bad_tags_are_refused_and_nothing_is_kept(bob):
    with pytest.raises(TypeError, match="non-empty string"):
        torch.tensor([1]).tag(5)
    with pytest.raises(TypeError):
        torch.tensor([1]).describe(["not", "text"])
    with pytest.raises(ValueError, match="at most"):
        torch.tensor([1]).tag(*[f"#t{i}" for i in range(100)])
    for fields in ([torch.ones(1), 7, "not a list", None], [torch.ones(1), 7, [1, 2], None],
                   [torch.ones(1), 7, ["#ok"], 12], [torch.ones(1), 7, [f"#x{i}" for i in range(70)], None]):
        reply = bob.recv_msg(codec.encode(["store", [], *fields]))
        ok, value = codec.decode_reply(reply, ExtDecoder())
        assert not ok and value[0] in ("TypeError", "ValueError", "MalformedMessageError"), value
    assert bob._objects == {}
    ok, value = codec.decode_reply(bob.recv_msg(codec.encode(["search", [], {"a": 1}])), ExtDecoder())
    assert not ok and value[0] == "TypeError"


def test_tags_come_home_and_follow_moves(bob, alice):
    x = tagged().send(bob)
    x.move(alice)
    assert alice.search("#boston")[0].description == BOSTON
    back = x.get()
    assert back.tags == ["#fun", "#boston", "#housing"] and back.description == BOSTON
    y = tagged().send(bob)
    y.remote_send(alice)
    assert len(alice.search("#boston")) == 1


def test_tagged_tensors_copy_save_and_format_like_plain_ones(tmp_path):
    import copy

    t = torch.tensor([1.0], requires_grad=True).tag("#t")
    assert repr(t).startswith("tensor([1.], requires_grad=True)\n\tTags: #t ")
    c = copy.deepcopy(t)
    assert c.tags == ["#t"] and c.requires_grad and c is not t
    torch.save({"x": t}, tmp_path / "t.pt")
    loaded = torch.load(tmp_path / "t.pt")  # torch's default, weights_only, reads it
    assert type(loaded["x"]) is torch.Tensor and torch.equal(loaded["x"], t)
    assert f"{torch.tensor(3.0).tag('#z'):.2f}" == "3.00"


def test_errors_never_echo_long_input_and_long_tag_lists_are_refused_first(bob):
    with pytest.raises(TypeError) as error:
        bob.search("#" + "x" * 10_000)
    assert len(str(error.value)) < 200
    with pytest.raises(ValueError, match="at most 64 tags, not 100000"):
        torch.tensor([1]).tag(*[f"#{i}" for i in range(100_000)])


def test_search_pointers_cannot_hand_on_what_they_do_not_own(bob, alice):
    x = tagged().send(bob)
    [found] = sy.local_worker.request_search("#boston", location=bob)
    with pytest.raises(ValueError, match="does not own"):
        found.send(alice)
    assert len(bob._objects) == 1 and alice._objects == {} and x.location is bob


def test_the_grid_skips_removed_workers_and_finds_recreated_ones(hook, bob):
    from jupyter_syft.workers import remove_worker

    carol = sy.VirtualWorker(hook, id="carol_grid")
    tagged().send(carol, garbage_collect_data=False)
    grid = sy.PrivateGridNetwork(bob, carol)
    remove_worker(carol)
    assert grid.search("#boston") == {}
    again = sy.VirtualWorker(hook, id="carol_grid")
    tagged().send(again, garbage_collect_data=False)
    assert list(grid.search("#boston")) == ["carol_grid"]
    remove_worker(again)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch deprecates TorchScript itself
def test_the_hook_leaves_torchscript_working(hook):
    model = torch.nn.Linear(2, 1)
    assert torch.jit.script(model)(torch.ones(1, 2)).shape == (1, 1)
    assert torch.jit.trace(model, torch.ones(1, 2))(torch.ones(1, 2)).shape == (1, 1)
