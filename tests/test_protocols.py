"""Protocols (Part 08 bis): plans deployed to workers in order, run hop by hop, sent, found, fetched."""
import re

import pytest
import torch

import jupyter_syft as sy
from plan_examples import incrementers


def _masked(text: str) -> str:
    return re.sub(r"\d{5,}", "ID", text)


def test_a_protocol_prints_its_plans_then_its_deployment(hook, alice, bob, charlie):
    inc1, inc2, inc3 = incrementers()
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2), ("worker3", inc3)])
    assert _masked(repr(protocol)) == "\n".join([
        "<Protocol id:ID owner:me>",
        " - worker1: <Plan inc1 id:ID owner:me built>", "def inc1(arg_1):", "    _2 = _1.__add__(1)", "    return _2",
        " - worker2: <Plan inc2 id:ID owner:me built>", "def inc2(arg_1):", "    _2 = _1.__add__(1)", "    return _2",
        " - worker3: <Plan inc3 id:ID owner:me built>", "def inc3(arg_1):", "    _2 = _1.__add__(1)", "    return _2",
    ])
    assert protocol.deploy(alice, bob, charlie) is protocol
    assert _masked(repr(protocol)) == "\n".join([
        "<Protocol id:ID owner:me resolved>",
        " - alice: [PointerPlan | me:ID -> alice:ID]",
        " - bob: [PointerPlan | me:ID -> bob:ID]",
        " - charlie: [PointerPlan | me:ID -> charlie:ID]",
    ])
    assert protocol.plans[0][1].id_at_location == inc1.id  # each plan is kept under its own id
    with pytest.raises(RuntimeError, match="This protocol is already deployed to alice, bob, charlie."):
        protocol.deploy(alice, bob, charlie)


def test_run_sends_then_moves_hop_by_hop(hook, alice, bob, charlie, capsys):
    protocol = sy.Protocol(list(zip(("worker1", "worker2", "worker3"), incrementers())))
    with pytest.raises(RuntimeError, match="Call deploy"):
        protocol.run(torch.tensor([1.0]))
    protocol.deploy(alice, bob, charlie)
    capsys.readouterr()
    before = {w.id: w.traffic["messages"] for w in (alice, bob, charlie)}
    ptr = protocol.run(torch.tensor([1.0]))
    assert capsys.readouterr().out == "send alice\nmove alice  ->  bob\nmove bob  ->  charlie\n"
    assert ptr.location is charlie
    # alice: the send and one plan call; bob and charlie: a plan call each (moves arrive as stores)
    assert {w.id: w.traffic["messages"] - before[w.id] for w in (alice, bob, charlie)} == {
        "alice": 3, "bob": 3, "charlie": 2}
    assert torch.equal(ptr.get(), torch.tensor([4.0]))


def test_fictive_workers_map_to_real_ones(hook, alice, bob):
    inc1, inc2, inc3 = incrementers()
    protocol = sy.Protocol([("a", inc1), ("b", inc2), ("a", inc3)])
    with pytest.raises(RuntimeError, match="designed for 2 workers, but 1 were provided"):
        protocol.deploy(alice)
    protocol.deploy(alice, bob)
    assert [w.id for w, _ in protocol.plans] == ["alice", "bob", "alice"]
    assert torch.equal(protocol.run(torch.tensor([0.0])).get(), torch.tensor([3.0]))


def test_a_protocol_sent_to_a_worker_runs_there(hook, alice, bob, charlie, james, capsys):
    protocol = sy.Protocol(list(zip(("worker1", "worker2", "worker3"), incrementers())))
    protocol.deploy(alice, bob, charlie)
    assert protocol.send(james) is None
    x = torch.tensor([1.0]).send(james)
    capsys.readouterr()
    ptr = protocol.run(x)
    assert capsys.readouterr().out == ("send remote run request to james\n"
                                       "send alice\nmove alice  ->  bob\nmove bob  ->  charlie\n")
    assert ptr.location is james
    inner = ptr.get()  # james kept a pointer to charlie's result: a chain, as in PySyft
    assert inner.location is charlie and inner.id == ptr.id_at_location
    assert torch.equal(inner.get(), torch.tensor([4.0]))
    with pytest.raises(RuntimeError, match="has been sent to james, but you provided local arguments"):
        protocol.run(torch.tensor([1.0]))


def test_a_tagged_protocol_is_found_fetched_and_deployed_again(hook, alice, bob, charlie, james, capsys):
    inc1, inc2, inc3 = incrementers()
    protocol = sy.Protocol([("worker1", inc1), ("worker2", inc2), ("worker3", inc3)])
    protocol.tag("my_protocol")
    protocol.send(james)
    me = sy.hook.local_worker
    responses = me.request_search(["my_protocol"], location=james)
    assert len(responses) == 1
    ptr_protocol = responses[0]
    assert repr(ptr_protocol) == f"[PointerProtocol | me:{ptr_protocol.id} -> james:{protocol.id}]"
    protocol_back = ptr_protocol.get()
    text = _masked(repr(protocol_back))
    assert text.startswith("<Protocol id:ID owner:me>\n - me: <Plan inc1 id:ID owner:me built>\ndef inc1(arg_1):")
    assert protocol_back.id == protocol.id
    assert [p.id for _, p in protocol_back.plans] == [inc1.id, inc2.id, inc3.id]
    protocol_back.deploy(alice, bob, charlie)
    capsys.readouterr()
    assert torch.equal(protocol_back.run(torch.tensor([1.0])).get(), torch.tensor([4.0]))
    assert capsys.readouterr().out == "send alice\nmove alice  ->  bob\nmove bob  ->  charlie\n"


def test_a_protocol_only_holds_plans(hook):
    with pytest.raises(TypeError, match="pairs workers with plans, not with a function"):
        sy.Protocol([("w", lambda x: x)])


def test_a_sent_protocol_keeps_its_plans_when_the_local_one_goes(hook, alice, bob, james):
    protocol = sy.Protocol(list(zip(("worker1", "worker2"), incrementers())))
    protocol.deploy(alice, bob)
    protocol.send(james)
    protocol_id = protocol._id_at_location
    del protocol  # Part 08 bis rebinds `protocol` right after sending it
    assert len(alice._objects) == 1 and len(bob._objects) == 1
    x = torch.tensor([1.0]).send(james)
    result, lines = sy.local_worker._request(james, "run_protocol", [protocol_id, [x]], [x])
    assert lines == ["send alice", "move alice  ->  bob"]
    assert torch.equal(result.get().get(), torch.tensor([3.0]))


def test_running_a_protocol_leaves_the_callers_data_where_it_was(hook, alice, bob, capsys):
    protocol = sy.Protocol(list(zip(("worker1", "worker2"), incrementers())))
    protocol.deploy(bob, alice)
    x = torch.tensor([1.0]).send(alice)
    result = protocol.run(x)
    assert capsys.readouterr().out == "send bob\nmove bob  ->  alice\n"
    assert x.location is alice and torch.equal(x.get(), torch.tensor([1.0]))
    assert torch.equal(result.get(), torch.tensor([3.0]))


def test_a_sent_protocol_refuses_mixed_local_and_remote_arguments(hook, alice, bob, james):
    protocol = sy.Protocol(list(zip(("worker1", "worker2"), incrementers())))
    protocol.deploy(alice, bob)
    protocol.send(james)
    with pytest.raises(RuntimeError, match="sent to james, but you provided local arguments"):
        protocol.run(torch.tensor([1.0]).send(james), torch.tensor([2.0]))
