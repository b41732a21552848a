"""Tutorial Part 01, cell by cell, printed as PySyft 0.2.4 printed it (design.md §2).

The cells run in a fresh interpreter, each cell's last expression shown with repr() as a
notebook would, so nothing from other tests (workers, hooks, ids) leaks in.
"""
import json
import re
import subprocess
import sys
import textwrap

# Part 01's code cells; the first line stands in for the notebook's `%load_ext jupyter_syft`.
CELLS = [
    "import jupyter_syft",
    "import sys\nimport torch\nfrom torch.nn import Parameter\nimport torch.nn as nn\n"
    "import torch.nn.functional as F\n\nimport syft as sy\nhook = sy.TorchHook(torch)\n\n"
    "torch.tensor([1,2,3,4,5])",
    "x = torch.tensor([1,2,3,4,5])\ny = x + x\nprint(y)",
    'bob = sy.VirtualWorker(hook, id="bob")',
    "x = torch.tensor([1,2,3,4,5])\ny = torch.tensor([1,1,1,1,1])",
    "x_ptr = x.send(bob)\ny_ptr = y.send(bob)",
    "x_ptr",
    "bob._objects",
    "z = x_ptr + x_ptr",
    "z",
    "bob._objects",
    "x_ptr",
    "x_ptr.location",
    "bob",
    "bob == x_ptr.location",
    "x_ptr.id_at_location",
    "x_ptr.owner",
    "me = sy.local_worker\nme",
    "me == x_ptr.owner",
    "x_ptr",
    "x_ptr.get()",
    "y_ptr",
    "y_ptr.get()",
    "z.get()",
    "bob._objects",
    "x = torch.tensor([1,2,3,4,5]).send(bob)\ny = torch.tensor([1,1,1,1,1]).send(bob)",
    "z = x + y",
    "z",
    "z.get()",
    "x",
    "y",
    "z = torch.add(x,y)\nz",
    "z.get()",
    "x = torch.tensor([1,2,3,4,5.], requires_grad=True).send(bob)\n"
    "y = torch.tensor([1,1,1,1,1.], requires_grad=True).send(bob)",
    "z = (x + y).sum()",
    "z.backward()",
    "x = x.get()",
    "x",
    "x.grad",
]

RUNNER = textwrap.dedent('''
    import ast, contextlib, io, json, sys
    cells, outputs, env = json.loads(sys.stdin.read()), [], {}
    for source in cells:
        tree, stdout, shown = ast.parse(source), io.StringIO(), None
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        with contextlib.redirect_stdout(stdout):
            exec(compile(tree, "<cell>", "exec"), env)
            if last is not None:
                value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), env)
                shown = None if value is None else repr(value)
        outputs.append([stdout.getvalue(), shown])
    print(json.dumps(outputs))
''')

PTR = r"\(Wrapper\)>\[PointerTensor \| me:(\d+) -> bob:(\d+)\]"


def run_cells(cells):
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(cells),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "", done.stderr  # hooking and the cells print no warnings
    return json.loads(done.stdout)


def test_part01_prints_what_pysyft_printed():
    out = dict(zip(range(len(CELLS)), run_cells(CELLS)))
    shown = {i: o[1] for i, o in out.items()}
    printed = {i: o[0] for i, o in out.items()}

    assert printed[0] == "" and shown[0] is None
    assert shown[1] == "tensor([1, 2, 3, 4, 5])" and printed[1] == ""  # the hook is silent
    assert printed[2] == "tensor([ 2,  4,  6,  8, 10])\n"
    assert all(shown[i] is None and printed[i] == "" for i in (3, 4, 5, 8))

    x_ptr = re.fullmatch(PTR, shown[6])
    assert x_ptr, shown[6]
    x_remote = x_ptr.group(2)
    objects = re.fullmatch(r"\{(\d+): tensor\(\[1, 2, 3, 4, 5\]\), (\d+): tensor\(\[1, 1, 1, 1, 1\]\)\}", shown[7])
    assert objects and objects.group(1) == x_remote, shown[7]
    y_remote = objects.group(2)

    z_ptr = re.fullmatch(PTR, shown[9])
    assert z_ptr, shown[9]
    assert shown[10] == (f"{{{x_remote}: tensor([1, 2, 3, 4, 5]), {y_remote}: tensor([1, 1, 1, 1, 1]), "
                         f"{z_ptr.group(2)}: tensor([ 2,  4,  6,  8, 10])}}")
    assert shown[11] == shown[6] == shown[19]  # the same pointer, the same text
    assert shown[12] == shown[13] == "<VirtualWorker id:bob #objects:3>"
    assert shown[14] == "True" and shown[18] == "True"
    assert shown[15] == x_remote
    assert shown[16] == shown[17] == "<VirtualWorker id:me #objects:0>"
    assert shown[20] == "tensor([1, 2, 3, 4, 5])"
    assert re.fullmatch(PTR, shown[21]).group(2) == y_remote
    assert shown[22] == "tensor([1, 1, 1, 1, 1])"
    assert shown[23] == "tensor([ 2,  4,  6,  8, 10])"
    assert shown[24] == "{}"

    for i in (27, 29, 30, 31):
        assert re.fullmatch(PTR, shown[i]), shown[i]
    assert shown[28] == shown[32] == "tensor([2, 3, 4, 5, 6])"
    assert shown[35] is None and printed[35] == ""  # z.backward() shows nothing
    assert shown[37] == "tensor([1., 2., 3., 4., 5.], requires_grad=True)"
    assert shown[38] == "tensor([1., 1., 1., 1., 1.])"


def test_pointer_ids_are_pysyft_like():
    out = run_cells(CELLS[:7] + ["x.id == x_ptr.id_at_location", "x_ptr.id != x_ptr.id_at_location",
                                 "0 < x_ptr.id < 10**11 and 0 < x_ptr.id_at_location < 10**11"])
    assert [o[1] for o in out[-3:]] == ["True", "True", "True"]


def test_import_syft_gives_jupyter_syft_and_its_exceptions():
    out = run_cells(["import jupyter_syft", "import syft\nsyft is jupyter_syft",
                     "from syft.exceptions import TensorsNotCollocatedException, ObjectNotFoundError\n"
                     "TensorsNotCollocatedException is jupyter_syft.TensorsNotCollocatedException",
                     "import syft.exceptions\nsyft.exceptions.ObjectNotFoundError is ObjectNotFoundError"])
    assert [o[1] for o in out[1:]] == ["True", "True", "True"]


def test_another_syft_is_left_alone_and_named_once(tmp_path):
    fake = tmp_path / "syft"
    fake.mkdir()
    (fake / "__init__.py").write_text("REAL = True\n")
    code = ("import warnings, sys\nwarnings.simplefilter('always')\n"
            "import jupyter_syft, jupyter_syft.compat as c\nimport syft\n"
            "print(getattr(syft, 'REAL', False), c.install_syft_alias())")
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
    assert done.stderr.count("another `syft` package is installed") == 1
