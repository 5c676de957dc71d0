"""Graph drawing: the DOT text (structure, labels, names, grouping, escaping, determinism,
truncation, deep graphs) and real rendering to SVG/PNG/PDF, with and without the `dot` program."""

from __future__ import annotations

import html
import importlib
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest

import microtensor as mt
from microtensor import nn, viz
from microtensor.autograd import Function

NODE = re.compile(r"^\s*(\w+) \[label=<(.*)> shape=", re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+)", re.M)
SVG = "{http://www.w3.org/2000/svg}"


# ----------------------------------------------------------------------------------------------
# Helpers: read the DOT text back
# ----------------------------------------------------------------------------------------------

def nodes(dot: str) -> dict[str, str]:
    """DOT node name -> the visible text of its label (rows joined by ' | ')."""
    out = {}
    for name, label in NODE.findall(dot):
        rows = re.findall(r"<TD[^>]*>(.*?)</TD>", label)
        out[name] = " | ".join(html.unescape(re.sub(r"<[^>]+>", "", r)) for r in rows)
    return out


def edges(dot: str) -> list[tuple[str, str]]:
    return EDGE.findall(dot)


def find(dot: str, text: str) -> list[str]:
    """Names of the nodes whose label starts with ``text``."""
    return [n for n, label in nodes(dot).items() if label.startswith(text)]


def one(dot: str, text: str) -> str:
    found = find(dot, text)
    assert len(found) == 1, (text, nodes(dot))
    return found[0]


def clusters(dot: str) -> dict[str, tuple[str | None, set[str]]]:
    """Cluster label -> (label of the enclosing cluster, names of the nodes directly inside)."""
    out: dict[str, tuple[str | None, set[str]]] = {}
    stack: list[str] = []
    lines = dot.splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("subgraph cluster_"):
            label = lines[i + 1].strip()[len("label=<"):-1]
            label = html.unescape(re.sub(r"<[^>]+>", "", label))
            out[label] = (stack[-1] if stack else None, set())
            stack.append(label)
        elif line.strip() == "}" and stack:
            stack.pop()
        elif stack and (m := NODE.match(line)):
            out[stack[-1]][1].add(m.group(1))
    return out


@pytest.fixture
def xor():
    """An XOR network after one backward: Linear(2, 4) -> Sigmoid -> Linear(4, 1), BCE loss."""
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    p = model(x).sigmoid()
    loss = -(y * p.log() + (1 - y) * (1 - p).log()).mean()
    loss.backward()
    return model, loss, p


# ----------------------------------------------------------------------------------------------
# Structure
# ----------------------------------------------------------------------------------------------

def test_square_has_two_edges_into_mul() -> None:
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    dot = viz.to_dot(y)
    assert len(nodes(dot)) == 4                     # input, Mul, Sum, output
    x_node, mul, total, out = one(dot, "input"), one(dot, "Mul"), one(dot, "Sum"), one(dot,
                                                                                      "output")
    assert sorted(edges(dot)) == sorted([(x_node, mul), (x_node, mul), (mul, total),
                                         (total, out)])


def test_constants_shared_inputs_and_counts() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    y = (x * 2 + x).sum()                           # the 2 is not a tensor: a constant node
    dot = viz.to_dot(y)
    assert len(nodes(dot)) == 6                     # input, constant, Mul, Add, Sum, output
    x_node, mul, add = one(dot, "input"), one(dot, "Mul"), one(dot, "Add")
    const = one(dot, "2")
    assert sorted(edges(dot)) == sorted([(x_node, mul), (const, mul), (mul, add), (x_node, add),
                                         (add, one(dot, "Sum")), (one(dot, "Sum"),
                                                                  one(dot, "output"))])


def test_a_tensor_without_grad_is_an_input_box() -> None:
    w = mt.tensor([[1.0, 2.0]], requires_grad=True)
    data = mt.tensor([[3.0], [4.0]])                # requires_grad=False: data, not a parameter
    dot = viz.to_dot(w @ data, {"w": w, "data": data})
    assert len(nodes(dot)) == 4                     # w, data, Matmul, output
    assert nodes(dot)[one(dot, "data")].startswith("data | (2, 1) float32")
    assert sorted(edges(dot)) == sorted([(one(dot, "w"), one(dot, "Matmul")),
                                         (one(dot, "data"), one(dot, "Matmul")),
                                         (one(dot, "Matmul"), one(dot, "output"))])
    assert nodes(dot)[one(dot, "Matmul")] == "Matmul | \u2192 (1, 1)"


def test_op_labels_show_non_default_arguments_and_output_shape() -> None:
    x = mt.ones(2, 3, requires_grad=True)
    dot = viz.to_dot([x.sum(dim=1), x.sum(dim=0, keepdim=True), x.sum(), x.permute(1, 0)])
    labels = sorted(nodes(dot).values())
    assert "Sum dim=(1,) | \u2192 (2,)" in labels
    assert "Sum dim=(0,) keepdim=True | \u2192 (1, 3)" in labels
    assert "Sum | \u2192 scalar" in labels          # dim=None and keepdim=False are defaults
    assert "Permute dims=(1, 0) | \u2192 (3, 2)" in labels
    assert "Index index=(..., 0:2) | \u2192 (2, 2)" in nodes(viz.to_dot(x[..., 0:2])).values()


def test_a_user_defined_op_labels_itself() -> None:
    class Cube(Function):
        """y = x^3;   dx = 3 x^2 g"""

        @staticmethod
        def forward(ctx, x, scale=1.0):
            ctx.save_for_backward(x)
            return scale * x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    x = mt.tensor([1.0, 2.0], requires_grad=True)
    labels = nodes(viz.to_dot(Cube.apply(x, scale=2.0))).values()
    assert "Cube scale=2.0 | \u2192 (2,)" in labels


def test_tensor_boxes_show_shape_dtype_values_and_gradients() -> None:
    x = mt.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    before = nodes(viz.to_dot(y))
    assert before[one(viz.to_dot(y), "input")] == "input | (3,) float32 | data [1. 2. 3.]"
    y.backward()
    dot = viz.to_dot(y)
    # d/dx sum(x^2) = 2x, printed in full because the tensor is small.
    assert nodes(dot)[one(dot, "input")] == ("input | (3,) float32 | data [1. 2. 3.] | "
                                             "grad [2. 4. 6.]")
    assert nodes(dot)[one(dot, "output")] == "output | scalar float32 | data 14"
    bare = viz.to_dot(y, show_data=False, show_grad=False, show_shapes=False)
    assert sorted(nodes(bare).values()) == ["Mul", "Sum", "input", "output"]


def test_large_tensors_are_summarised() -> None:
    x = mt.arange(100, dtype=mt.float64).requires_grad_()
    y = (x * 3).sum()
    y.backward()
    dot = viz.to_dot(y)
    norm = math.sqrt(sum(i * i for i in range(100)))              # 573.018...
    assert nodes(dot)[one(dot, "input")] == (
        "input | (100,) float64 | data min 0  max 99 |      mean 49.5  norm "
        f"{norm:.4f} | grad min 3  max 3 |      mean 3  norm 30")
    assert f"norm {norm:.2f}" in nodes(viz.to_dot(y, precision=2))[one(dot, "input")]


def test_precision_and_extreme_numbers() -> None:
    x = mt.tensor([1 / 3, 2 / 3], dtype=mt.float64, requires_grad=True)
    assert "input | (2,) float64 | data [0.33 0.67]" in nodes(viz.to_dot(x * 1, precision=2)
                                                              ).values()
    assert "input | (2,) float64 | data [0.3333 0.6667]" in nodes(viz.to_dot(x * 1)).values()
    for value, text in [(1e-9, "1.0e-09"), (2.5e12, "2.5e+12"), (-0.125, "-0.125"), (0.0, "0")]:
        scalar = mt.tensor(value, dtype=mt.float64, requires_grad=True)
        assert f"input | scalar float64 | data {text}" in nodes(viz.to_dot(scalar * 1)).values()


def test_parameters_named_by_a_mapping_and_roots_by_name() -> None:
    w = mt.tensor([2.0], requires_grad=True)
    b = mt.tensor([1.0], requires_grad=True)
    x = mt.tensor([3.0], requires_grad=True)
    out = w * x + b
    loss = (out * out).sum()
    dot = viz.to_dot({"loss": loss, "prediction": out}, params={"w": w, "b": b},
                     show_data=False)
    labels = nodes(dot)
    assert labels[one(dot, "w")] == "w | (1,) float32"
    assert labels[one(dot, "b")] == "b | (1,) float32"
    assert one(dot, "input")                                        # x has no name
    # The named output sits on the path: Add -> prediction -> Mul (twice, out * out).
    pred, add = one(dot, "prediction"), one(dot, "Add")
    assert edges(dot).count((add, pred)) == 1
    assert sorted(edges(dot).count((pred, mul)) for mul in find(dot, "Mul")) == [0, 2]
    assert "#fde68a" in dot and "#bfdbfe" in dot and "#bbf7d0" in dot  # parameter/input/output


def test_several_roots_are_numbered() -> None:
    x = mt.tensor([1.0], requires_grad=True)
    dot = viz.to_dot([x.exp(), x.sin()])
    assert one(dot, "output 0") != one(dot, "output 1")
    assert len(find(dot, "input")) == 1                              # x is drawn once


def test_a_named_intermediate_gets_a_box_with_its_retained_grad() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    y = h.sum()
    y.backward()
    dot = viz.to_dot(y, params={"h": h})
    box = one(dot, "h")
    assert nodes(dot)[box] == "h | (2,) float32 | data [3. 6.] | grad [1. 1.]"
    assert (one(dot, "Mul"), box) in edges(dot) and (box, one(dot, "Sum")) in edges(dot)


def test_module_parameters_are_named_and_grouped(xor) -> None:
    model, loss, _ = xor
    dot = viz.to_dot(loss, params=model)
    labels = nodes(dot)
    for name, p in model.named_parameters():
        shape = "(" + ", ".join(map(str, p.shape)) + ("," if p.ndim == 1 else "") + ")"
        assert labels[one(dot, name)].startswith(f"{name} | {shape} float32 | data ")
        assert " | grad " in labels[one(dot, name)]                   # after backward
    boxes = clusters(dot)
    assert set(boxes) == {"Sequential", "0 (Linear)", "1 (Sigmoid)", "2 (Linear)"}
    assert boxes["Sequential"][0] is None
    for inner in ("0 (Linear)", "1 (Sigmoid)", "2 (Linear)"):
        assert boxes[inner][0] == "Sequential"
    assert {one(dot, "0.weight"), one(dot, "0.bias")} <= boxes["0 (Linear)"][1]
    assert {labels[n].split(" ")[0] for n in boxes["1 (Sigmoid)"][1]} == {"Sigmoid"}
    # The loss is computed outside the model: its ops and the output are in no box.
    inside = set().union(*(members for _, members in boxes.values()))
    assert one(dot, "output") not in inside
    assert all(n not in inside for n in find(dot, "Log"))


def test_grouping_can_be_turned_off_and_needs_no_module(xor) -> None:
    model, loss, _ = xor
    assert "subgraph" not in viz.to_dot(loss, params=model, group_modules=False)
    # Without a Module the boxes still appear, labelled by class name only.
    assert set(clusters(viz.to_dot(loss))) == {"Sequential", "Linear", "Sigmoid"}


def test_nested_modules_give_nested_boxes() -> None:
    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Sequential(nn.Linear(3, 3), nn.Sigmoid())

        def forward(self, x):
            return self.inner(x) * 2

    mt.manual_seed(0)
    model = nn.Sequential(Block(), nn.Linear(3, 1))
    dot = viz.to_dot(model(mt.ones(2, 3)).sum(), params=model)
    boxes = clusters(dot)
    assert boxes["0 (Block)"][0] == "Sequential"
    assert boxes["0.inner (Sequential)"][0] == "0 (Block)"
    assert boxes["0.inner.0 (Linear)"][0] == "0.inner (Sequential)"
    assert one(dot, "0.inner.0.weight") in boxes["0.inner.0 (Linear)"][1]
    assert one(dot, "Mul") in boxes["0 (Block)"][1]                    # Block's own op


def test_labels_are_escaped() -> None:
    name = 'w<>{}|"&\\'
    w = mt.tensor([1.0], requires_grad=True)
    dot = viz.to_dot({'out<"1">': (w * 2).sum()}, params={name: w})
    assert html.escape(name) in dot and name not in dot
    assert one(dot, name) and one(dot, 'out<"1">')


def test_same_graph_same_dot(xor) -> None:
    model, loss, p = xor
    first = viz.to_dot({"loss": loss, "p": p}, params=model)
    assert viz.to_dot({"loss": loss, "p": p}, params=model) == first
    # A second graph built the same way (other objects, other ids) gives the same text.
    model2 = nn.Sequential(nn.Linear(2, 4), nn.Sigmoid(), nn.Linear(4, 1))
    model2.load_state_dict(model.state_dict())
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    p2 = model2(x).sigmoid()
    loss2 = -(y * p2.log() + (1 - y) * (1 - p2).log()).mean()
    loss2.backward()
    assert viz.to_dot({"loss": loss2, "p": p2}, params=model2) == first


def chain(n: int) -> mt.Tensor:
    """x -> n ops -> output: n + 2 nodes."""
    x = mt.tensor([1.0], requires_grad=True)
    y = x
    for i in range(n):
        y = y.sin() if i % 2 else y.cos()
    return y


def test_max_nodes_cuts_with_a_note() -> None:
    dot = viz.to_dot(chain(100), max_nodes=10)
    labels = nodes(dot)
    assert len(labels) == 11                               # 10 drawn + the note
    note = one(dot, "...")
    assert labels[note] == "... 92 more nodes not drawn (max_nodes=10)"   # 102 - 10
    assert not find(dot, "input")                          # the far end is cut
    assert [e for e in edges(dot) if e[0] == note] == [(note, "op8")]


def test_max_nodes_none_draws_all_and_default_is_bounded() -> None:
    y = chain(1500)
    assert len(nodes(viz.to_dot(y, max_nodes=None))) == 1502
    assert len(nodes(viz.to_dot(y))) == 1001              # default max_nodes=1000 + note


def test_ten_thousand_node_chain() -> None:
    y = chain(10_000)
    dot = viz.to_dot(y, max_nodes=None)
    assert len(nodes(dot)) == 10_002 and len(edges(dot)) == 10_001
    assert len(nodes(viz.to_dot(y, max_nodes=50))) == 51


def test_bad_arguments() -> None:
    x = mt.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="root must be a Tensor"):
        viz.to_dot(np.ones(3))
    with pytest.raises(TypeError, match="root must be a Tensor"):
        viz.to_dot([])
    with pytest.raises(TypeError, match="params must be a Module or a mapping"):
        viz.to_dot(x, params=[x])
    with pytest.raises(TypeError, match=r"params\['w'\] must be a Tensor"):
        viz.to_dot(x, params={"w": 1.0})
    with pytest.raises(ValueError, match="rankdir must be 'TB' or 'LR'"):
        viz.to_dot(x, rankdir="XY")
    with pytest.raises(ValueError, match="max_nodes must be a positive int"):
        viz.to_dot(x, max_nodes=0)
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf or \.dot"):
        viz.save_graph(x, "graph.jpg")


def test_public_entry_points_agree(xor) -> None:
    model, loss, _ = xor
    graph = mt.draw_graph(loss, params=model, rankdir="LR")
    assert isinstance(graph, graphviz.Digraph)
    assert graph.source == mt.to_dot(loss, params=model, rankdir="LR")
    assert "rankdir=LR" in graph.source
    assert loss.draw(model).source == viz.to_dot(loss, params=model)


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------

def no_dot_on_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()                        # raises if the SVG is not XML
    assert root.tag == SVG + "svg"
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def check_png(path: Path) -> None:
    check_png_bytes(path.read_bytes())


def check_png_bytes(data: bytes) -> None:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])      # the IHDR chunk
    assert width > 300 and height > 300 and len(data) > 20_000


def check_xor_pictures(model, loss, tmp_path: Path) -> None:
    svg = viz.save_graph({"loss": loss}, tmp_path / "xor.svg", params=model)
    texts = svg_texts(svg)
    for expected in ("Sigmoid", "Log", "Sub", "Neg", "0.weight", "2.bias", "0 (Linear)",
                     "1 (Sigmoid)", "loss"):
        assert any(t.startswith(expected) for t in texts), (expected, texts)
    check_png(viz.save_graph(loss, tmp_path / "xor.png", params=model))
    assert (tmp_path / "xor.pdf").exists() is False
    assert viz.save_graph(loss, tmp_path / "xor.pdf", params=model).read_bytes()[:5] == b"%PDF-"


def test_render_with_bundled_engine_without_dot(xor, tmp_path, monkeypatch) -> None:
    pytest.importorskip("pygraphviz")
    no_dot_on_path(monkeypatch, tmp_path)
    model, loss, _ = xor
    check_xor_pictures(model, loss, tmp_path)
    name = 'w<>{}|"&'
    w = mt.tensor([1.0], requires_grad=True)
    texts = svg_texts(viz.save_graph((w * 2).sum(), tmp_path / "esc.svg", params={name: w}))
    assert name in texts                                     # rendered exactly as written
    # Jupyter's inline display goes through pipe(), which falls back to the bundled engine.
    bundle = mt.draw_graph(loss, params=model)._repr_mimebundle_()
    assert "0 (Linear)" in bundle["image/svg+xml"]


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")
def test_render_with_dot_program(xor, tmp_path, monkeypatch) -> None:
    def no_fallback(source: str, fmt: str) -> bytes:
        raise AssertionError("dot is installed: the bundled engine must not be used")

    monkeypatch.setattr(viz, "_render_bundled", no_fallback)
    model, loss, _ = xor
    check_xor_pictures(model, loss, tmp_path)


# One picture rendered in a fresh process (Fontconfig starts once per process), by microtensor
# or, for comparison, straight through pygraphviz; it writes the PNG bytes to stdout.
RENDER_IN_NEW_PROCESS = """
import sys
import microtensor as mt
from microtensor import viz
w = mt.tensor([[1.0, -2.0]], requires_grad=True)
loss = (w * 3).tanh().sum()
loss.backward()
dot = mt.to_dot(loss, params={"w": w})
if sys.argv[1] == "microtensor":
    png = viz._render_bundled(dot, "png")
else:
    import pygraphviz
    png = pygraphviz.AGraph(string=dot).draw(format="png", prog="dot")
sys.stdout.buffer.write(png)
"""


def render_in_new_process(how: str) -> tuple[bytes, str]:
    """(the PNG bytes, everything written to stderr, C level included)."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [root, *filter(None, [os.environ.get("PYTHONPATH")])])}
    done = subprocess.run([sys.executable, "-c", RENDER_IN_NEW_PROCESS, how], env=env,
                          capture_output=True, timeout=120, check=True)
    return done.stdout, done.stderr.decode(errors="replace")


def test_bundled_engine_prints_no_fontconfig_warning() -> None:
    """The Fontconfig in pygraphviz's wheels warns about the system's newer template files
    (``unknown element "reset-dirs"``) when it starts itself; started by microtensor, it is
    silent and draws the same picture, text included."""
    pygraphviz = pytest.importorskip("pygraphviz")
    png, stderr = render_in_new_process("microtensor")
    assert "Fontconfig" not in stderr, stderr
    check_png_bytes(png)
    plain_png, plain_stderr = render_in_new_process("pygraphviz")
    bundled = Path(pygraphviz.__file__).parent.parent / "pygraphviz.libs"
    if Path("/usr/share/fontconfig/conf.avail/05-reset-dirs-sample.conf").exists() and \
            any(bundled.glob("libfontconfig*")):
        # The cause is present here: without microtensor's start, the warning is printed.
        assert 'unknown element "reset-dirs"' in plain_stderr, plain_stderr
    # Same fonts, same layout: the labels' text is measured and drawn as before.
    assert png == plain_png


def test_fontconfig_start_does_nothing_without_a_bundled_library(tmp_path: Path) -> None:
    assert viz._start_bundled_fontconfig(tmp_path / "pygraphviz") is None


def test_no_engine_writes_dot_and_says_what_to_install(xor, tmp_path, monkeypatch) -> None:
    no_dot_on_path(monkeypatch, tmp_path)
    monkeypatch.setitem(sys.modules, "pygraphviz", None)    # `import pygraphviz` fails
    model, loss, _ = xor
    target = tmp_path / "out" / "graph.png"
    target.parent.mkdir()
    with pytest.raises(viz.GraphvizNotFoundError) as info:
        viz.save_graph(loss, target, params=model)
    message = str(info.value)
    dot_file = tmp_path / "out" / "graph.dot"
    assert 'pip install "microtensor[render]"' in message
    assert 'pip install -e ".[render]"' in message  # the form for a checkout
    assert "apt install graphviz" in message and "pygraphviz" in message
    assert str(dot_file.resolve()) in message
    assert not target.exists()
    assert dot_file.read_text(encoding="utf-8") == viz.to_dot(loss, params=model)
    with pytest.raises(viz.GraphvizNotFoundError, match="microtensor\\[render\\]"):
        mt.draw_graph(loss).pipe(format="svg")
    # Writing DOT text needs no engine at all.
    assert viz.save_graph(loss, tmp_path / "g.dot").read_text(encoding="utf-8") == viz.to_dot(
        loss)


def test_inputs_option_names_data_tensors() -> None:
    """Data tensors named through ``inputs`` are input boxes with their names, not parameters."""
    w = mt.tensor([[1.0, 2.0]], requires_grad=True)
    x = mt.tensor([[3.0], [4.0]])
    dot = viz.to_dot(w @ x, {"w": w}, inputs={"x": x})
    assert nodes(dot)[one(dot, "x")].startswith("x | (2, 1) float32")
    assert viz._COLORS["input"][0] in dot.split(one(dot, "x") + " ", 1)[1].split("\n", 1)[0]
    assert viz._COLORS["parameter"][0] in dot.split(one(dot, "w") + " ", 1)[1].split("\n", 1)[0]
    with pytest.raises(TypeError, match=r"inputs\['x'\] must be a Tensor"):
        viz.to_dot(w @ x, inputs={"x": [1.0]})


# ----------------------------------------------------------------------------------------------
# Where the gradient dies: activations, colours by |grad|, small numbers, fused ops expanded
# ----------------------------------------------------------------------------------------------

def xor_by_hand(scale: float = 1.0):
    """A 2-3-1 sigmoid net with a BCE loss, written op by op: (parameters, every intermediate
    result, loss). The same seed gives the same numbers: two calls give two identical graphs."""
    mt.manual_seed(0)
    w1 = (mt.randn(3, 2) * scale).requires_grad_()
    b1 = (mt.randn(3) * scale).requires_grad_()
    w2 = (mt.randn(1, 3) * scale).requires_grad_()
    b2 = (mt.randn(1) * scale).requires_grad_()
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    w1t = w1.T
    z1 = x @ w1t
    a1 = z1 + b1
    h = a1.sigmoid()
    w2t = w2.T
    z2 = h @ w2t
    a2 = z2 + b2
    p = a2.sigmoid()
    log_p = p.log()
    t1 = y * log_p
    q = 1 - p
    log_q = q.log()
    t2 = (1 - y) * log_q
    terms = t1 + t2
    m = terms.mean()
    loss = -m
    middle = [w1t, z1, a1, h, w2t, z2, a2, p, log_p, t1, q, log_q, t2, terms, m]
    return [w1, b1, w2, b2], middle, loss


def shape_text(t: mt.Tensor) -> str:
    if t.ndim == 0:
        return "scalar"
    return "(" + ", ".join(map(str, t.shape)) + ("," if t.ndim == 1 else "") + ")"


def value_rows(what: str, arr: np.ndarray, precision: int) -> list[str]:
    """The rows a box prints for ``arr`` (continuation lines indented under the first)."""
    lines = viz._values(arr, precision)
    return [(what + " " if i == 0 else " " * (len(what) + 1)) + line
            for i, line in enumerate(lines)]


def activation_boxes(dot: str) -> list[str]:
    """The labels of the boxes of unnamed intermediate results (they start with the shape)."""
    return [label for label in nodes(dot).values() if label.startswith(("(", "scalar"))]


def test_show_activations_draws_every_result_with_its_retained_gradient() -> None:
    # Reference: the graph with retain_grad() on every intermediate result, then backward().
    leaves, middle, loss = xor_by_hand()
    for t in middle:
        t.retain_grad()
    loss.backward()
    # The drawing of an identical graph, before any backward of its own.
    leaves2, _, loss2 = xor_by_hand()
    dot = viz.to_dot(loss2, show_activations=True, precision=6)
    expected = sorted(" | ".join([f"{shape_text(t)} float32",
                                  *value_rows("data", t.detach().numpy(), 6),
                                  *value_rows("grad", t.grad.numpy(), 6)]) for t in middle)
    assert sorted(activation_boxes(dot)) == expected
    assert nodes(dot)[one(dot, "output")].endswith(" | grad 1")
    # Parameters: the gradients drawn are backward()'s, compared as numbers.
    for i, (p, p2) in enumerate(zip(leaves, leaves2, strict=True)):
        drawn = viz.to_dot(loss2, params={"p": p2}, show_activations=True, precision=8)
        text = nodes(drawn)[one(drawn, "p")].split("grad ", 1)[1]
        numbers = [float(v) for v in re.findall(r"-?\d+\.?\d*(?:e[-+]\d+)?", text)]
        np.testing.assert_allclose(numbers, p.grad.numpy().ravel(), rtol=1e-5, atol=1e-9,
                                   err_msg=f"parameter {i}")
    # Without a gradient to show, the boxes hold the values only.
    plain = viz.to_dot(loss2, show_activations=True, show_grad=False)
    assert len(activation_boxes(plain)) == len(middle)
    assert all(" | grad " not in label for label in nodes(plain).values())


def test_show_activations_in_a_module_sits_in_its_frames(xor) -> None:
    model, _, _ = xor
    x = mt.tensor([[0.0, 1.0], [1.0, 1.0]])
    loss = model(x).sum()
    dot = viz.to_dot(loss, params=model, show_activations=True, show_grad=False)
    boxes = clusters(dot)
    # Each module's result is a box inside the module's frame.
    for frame, shape in (("0 (Linear)", "(2, 4)"), ("1 (Sigmoid)", "(2, 4)"),
                         ("2 (Linear)", "(2, 1)")):
        inside = [nodes(dot)[n] for n in boxes[frame][1]]
        assert any(label.startswith(shape + " float32 | data") for label in inside), frame
    assert viz._COLORS["activation"][0] in dot


def test_drawing_changes_no_gradient() -> None:
    leaves, middle, loss = xor_by_hand()
    kept = middle[3]
    kept.retain_grad()
    # Before backward: nothing is written into any .grad.
    viz.to_dot(loss, show_activations=True, color_by_grad=True)
    assert all(p.grad is None for p in leaves) and kept.grad is None
    loss.backward(retain_graph=True)
    grads = [p.grad for p in leaves]
    arrays = [g.numpy().copy() for g in grads]
    kept_grad = kept.grad
    kept_array = kept_grad.numpy().copy()
    # After backward(retain_graph=True): the same .grad objects, with the same values.
    viz.to_dot(loss, show_activations=True, color_by_grad=True)
    viz.draw_graph(loss, show_activations=True)
    for p, g, a in zip(leaves, grads, arrays, strict=True):
        assert p.grad is g
        np.testing.assert_array_equal(p.grad.numpy(), a)
    assert kept.grad is kept_grad
    np.testing.assert_array_equal(kept.grad.numpy(), kept_array)
    # A second backward adds exactly one more gradient: the drawings added none.
    loss.backward()
    for p, a in zip(leaves, arrays, strict=True):
        np.testing.assert_allclose(p.grad.numpy(), 2 * a, rtol=1e-6)
    np.testing.assert_allclose(kept.grad.numpy(), 2 * kept_array, rtol=1e-6)


def test_gradients_need_the_graph_and_a_scalar_first_root() -> None:
    _, middle, loss = xor_by_hand()
    loss.backward()                                   # frees the saved values
    with pytest.raises(RuntimeError, match=r"before calling backward\(\), or call "
                                           r"backward\(retain_graph=True\)"):
        viz.to_dot(loss, show_activations=True)
    with pytest.raises(RuntimeError, match=r"retain_graph=True"):
        viz.to_dot(loss, color_by_grad=True)
    # The values alone need no gradient: that works after any backward.
    assert len(activation_boxes(viz.to_dot(loss, show_activations=True, show_grad=False))) \
        == len(middle)
    _, middle, loss = xor_by_hand()
    p = middle[7]
    with pytest.raises(ValueError, match=r"first root.*shape \(4, 1\).*root=\[loss, output\]"):
        viz.to_dot(p, show_activations=True)
    dot = viz.to_dot({"loss": loss, "p": p}, show_activations=True)   # the loss first: fine
    assert " | grad " in nodes(dot)[one(dot, "p")]


def fill_of(dot: str, node: str) -> str:
    line = next(ln for ln in dot.splitlines() if ln.strip().startswith(node + " [label="))
    found = re.search(r'fillcolor="(#[0-9a-f]{6})"', line)
    assert found is not None
    return found.group(1)


def gradient_class_of_fill(fill: str) -> int:
    fills = [c[2] for c in viz._GRAD_CLASSES] + [viz._GRAD_ZERO[2], viz._GRAD_NOT_FINITE[2]]
    return fills.index(fill)


def test_color_by_grad_orders_colours_by_magnitude_with_a_legend() -> None:
    # d sum(x * 0.03 * 0.03 * 0.03) / d: t3 = 1, t2 = 0.03, t1 = 9e-4, x = 2.7e-5 (by hand).
    x = mt.tensor([2.0, -3.0], requires_grad=True)
    t1 = x * 0.03
    t2 = t1 * 0.03
    t3 = t2 * 0.03
    loss = t3.sum()
    names = {"x": x, "t1": t1, "t2": t2, "t3": t3}
    assert "legend" not in viz.to_dot(loss, params=names)     # off by default
    dot = viz.to_dot(loss, params=names, color_by_grad=True)
    classes = {name: gradient_class_of_fill(fill_of(dot, one(dot, name))) for name in names}
    # Classes count decades from the largest: 1 - 10, 0.01 - 0.1, 1e-4 - 1e-3, 1e-5 - 1e-4.
    assert [classes[name] for name in ("t3", "t2", "t1", "x")] == [1, 3, 5, 6]
    # Each arrow has the colour of the gradient of the tensor it carries.
    for name in ("x", "t1", "t2"):
        line = viz._GRAD_CLASSES[classes[name]][3]
        arrows = [ln for ln in dot.splitlines() if ln.strip().startswith(one(dot, name) + " ->")]
        assert arrows and all(f'color="{line}"' in a for a in arrows), name
    # The legend lists the colours drawn, largest gradients first, with their ranges.
    legend = next(ln for ln in dot.splitlines() if ln.strip().startswith("legend ["))
    assert "mean |grad|" in legend
    texts = [html.unescape(t) for t in re.findall(r'<TD ALIGN="LEFT">([^<]*)</TD>', legend)]
    assert texts == ["1 \u2013 10", "0.01 \u2013 0.1", "1e-4 \u2013 1e-3", "1e-5 \u2013 1e-4"]
    fills = re.findall(r'BGCOLOR="(#[0-9a-f]{6})"', legend)
    assert [gradient_class_of_fill(f) for f in fills] == sorted(classes.values())


def test_color_by_grad_zero_and_infinite_gradients_have_their_own_colours() -> None:
    x = mt.tensor([-1.0, -2.0], requires_grad=True)     # relu(x) = 0: no gradient gets through
    w = mt.tensor([1.0, 2.0], requires_grad=True)
    dead = x.relu()
    loss = (dead * w).sum()
    dot = viz.to_dot(loss, params={"x": x, "dead": dead, "w": w}, color_by_grad=True)
    assert fill_of(dot, one(dot, "x")) == viz._GRAD_ZERO[2]
    assert nodes(dot)[one(dot, "x")].endswith("grad [0. 0.]")   # exact zeros stay 0.
    assert fill_of(dot, one(dot, "dead")) != viz._GRAD_ZERO[2]  # its gradient is w
    assert fill_of(dot, one(dot, "w")) == viz._GRAD_ZERO[2]     # its gradient is relu(x) = 0
    assert "0: the gradient dies here" in dot
    v = mt.tensor([1.0], requires_grad=True)
    blown = viz.to_dot((v * math.inf).sum(), params={"v": v}, color_by_grad=True)
    assert fill_of(blown, one(blown, "v")) == viz._GRAD_NOT_FINITE[2]
    assert "nan or inf" in blown


def test_small_values_print_in_scientific_notation() -> None:
    x = mt.tensor([1.0, 2.0], requires_grad=True)
    loss = (x * 3e-9).sum()
    loss.backward()
    dot = viz.to_dot(loss, params={"x": x})
    assert nodes(dot)[one(dot, "x")] == "x | (2,) float32 | data [1. 2.] | grad [3.0e-09 3.0e-09]"
    mixed = mt.tensor([3e-9, 0.0, 0.5, -0.25])
    dot = viz.to_dot(mixed * x.sum(), inputs={"m": mixed})
    assert nodes(dot)[one(dot, "m")] == (
        "m | (4,) float32 | data [ 3.0e-09  0.       0.5     -0.25   ]")
    # The threshold follows the precision: 0.003 shows with 4 decimals, not with 2.
    small = mt.tensor([0.003, 1.0])
    four = viz.to_dot(small * x, inputs={"s": small})
    assert nodes(four)[one(four, "s")] == "s | (2,) float32 | data [0.003 1.   ]"
    two = viz.to_dot(small * x, inputs={"s": small}, precision=2)
    assert nodes(two)[one(two, "s")] == "s | (2,) float32 | data [3.0e-03 1.     ]"
    # Large tensors are summarised with the same rule.
    big = mt.full((20,), 3e-9)
    dot = viz.to_dot(big * x.sum(), inputs={"b": big})
    assert "min 3.0e-09  max 3.0e-09" in nodes(dot)[one(dot, "b")]


def op_labels(dot: str) -> list[str]:
    """The op names (with arguments) drawn, sorted: ellipses only."""
    return sorted(label.split(" | ")[0] for name, label in nodes(dot).items()
                  if name.startswith("op"))


def test_expand_fused_linear_draws_the_numpy_formula() -> None:
    mt.manual_seed(0)
    layer = nn.Linear(3, 2)
    x = mt.ones(4, 3)
    fused = viz.to_dot(layer(x), params=layer, inputs={"x": x}, group_modules=False)
    assert op_labels(fused) == ["Linear"]
    dot = viz.to_dot(layer(x), params=layer, inputs={"x": x}, expand_fused=True,
                     group_modules=False)
    by_hand = viz.to_dot(x @ layer.weight.T + layer.bias, params=layer, inputs={"x": x},
                         group_modules=False)
    assert op_labels(dot) == op_labels(by_hand) == ["Add", "Matmul", "Permute dims=(1, 0)"]
    # The same arrows: weight -> Permute -> Matmul <- x, Matmul -> Add <- bias, Add -> output.
    permute, matmul, add = one(dot, "Permute"), one(dot, "Matmul"), one(dot, "Add")
    assert sorted(edges(dot)) == sorted([(one(dot, "weight"), permute), (one(dot, "x"), matmul),
                                         (permute, matmul), (matmul, add),
                                         (one(dot, "bias"), add), (add, one(dot, "output"))])
    assert nodes(dot)[permute] == "Permute dims=(1, 0) | \u2192 (3, 2)"
    assert nodes(dot)[matmul] == "Matmul | \u2192 (4, 2)"
    # Without a bias there is no Add (and no constant None).
    plain = nn.Linear(3, 2, bias=False)
    dot = viz.to_dot(plain(x), expand_fused=True)
    assert op_labels(dot) == ["Matmul", "Permute dims=(1, 0)"]
    assert "None" not in dot


def test_expand_fused_losses_and_normalisations_match_their_formulas() -> None:
    f = nn.functional
    mt.manual_seed(0)
    z = mt.randn(4, 1, requires_grad=True)
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    v = z.reshape(2, 2)
    norm = nn.LayerNorm(2)
    mean, var = v.mean(dim=-1, keepdim=True), v.var(dim=-1, keepdim=True, correction=0)
    cases = [
        (f.binary_cross_entropy_with_logits(z, y, reduction="none"), f.softplus(z) - z * y),
        (f.log_softmax(v, dim=-1), v - v.logsumexp(dim=1, keepdim=True)),
        (norm(v), (v - mean) * (var + 1e-5).rsqrt() * norm.weight + norm.bias),
    ]
    for fused, by_hand in cases:
        assert op_labels(viz.to_dot(fused, expand_fused=True)) == op_labels(viz.to_dot(by_hand))
    # BCE on probabilities: -(y log p + (1 - y) log(1 - p)), the logs clamped at -100.
    p = z.sigmoid()
    labels = op_labels(viz.to_dot(f.binary_cross_entropy(p, y, reduction="none"),
                                  expand_fused=True))
    assert labels == sorted(["Sigmoid", "Log (\u2265 -100)", "Log (\u2265 -100)", "Mul", "Mul",
                             "Sub", "Sub", "Add", "Neg"])
    # The fused ops of backward passes (seen with create_graph=True) expand too.
    w = mt.randn(2, 3, requires_grad=True)
    x = mt.randn(4, 3, requires_grad=True)
    (gw,) = mt.autograd.grad(f.linear(x, w).tanh().sum(), w, create_graph=True)
    labels = op_labels(viz.to_dot(gw, expand_fused=True))
    assert "TransposedMatmul" not in labels and "TanhGrad" not in labels
    assert labels.count("Permute dims=(1, 0)") == 2 and "Sub" in labels


def test_expand_fused_cross_entropy_draws_log_softmax_and_the_picked_entry() -> None:
    f = nn.functional
    x = mt.randn(4, 3, requires_grad=True)
    t = mt.tensor([0, 2, 1, 1])
    assert op_labels(viz.to_dot(f.cross_entropy(x, t))) == ["CrossEntropy"]
    logp = x - x.logsumexp(dim=1, keepdim=True)
    for reduction, tail in (("mean", ["Mean"]), ("sum", ["Sum"]), ("none", [])):
        dot = viz.to_dot(f.cross_entropy(x, t, reduction=reduction), expand_fused=True)
        by_hand = op_labels(viz.to_dot(-logp.take_along_dim(t.reshape(4, 1), 1).squeeze(1)))
        # The picked entry is one step (TakeAlongDim) where the hand-written form takes two.
        assert op_labels(dot) == sorted(["Logsumexp dim=(1,) keepdim=True", "Sub",
                                         "TakeAlongDim dim=1 (the target's entry)", "Neg",
                                         *tail])
        assert {"Logsumexp dim=(1,) keepdim=True", "Sub", "Neg"} <= set(by_hand)


def test_expansions_name_real_fused_ops_only() -> None:
    for key in viz._EXPANSIONS:
        module, name = key.rsplit(".", 1)
        fn = getattr(importlib.import_module(module), name)
        assert issubclass(fn, Function) and viz._expansion(fn) is viz._EXPANSIONS[key]

    class Linear(Function):                           # a user's op that happens to be "Linear"
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    t = mt.ones(2, requires_grad=True)
    assert op_labels(viz.to_dot(Linear.apply(t), expand_fused=True)) == ["Linear"]


def test_all_options_render_with_the_bundled_engine(tmp_path, monkeypatch) -> None:
    pytest.importorskip("pygraphviz")
    no_dot_on_path(monkeypatch, tmp_path)
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid(), nn.Linear(3, 1))
    x = mt.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = mt.tensor([[0.0], [1.0], [1.0], [0.0]])
    loss = nn.BCEWithLogitsLoss()(model(x), y)
    options = {"params": model, "inputs": {"x": x, "y": y}, "show_activations": True,
               "color_by_grad": True, "expand_fused": True}
    check_png(viz.save_graph(loss, tmp_path / "all.png", **options))
    texts = svg_texts(viz.save_graph(loss, tmp_path / "all.svg", **options))
    for expected in ("mean |grad|", "Permute dims=(1, 0)", "Softplus", "0.weight"):
        assert any(t.startswith(expected) for t in texts), (expected, texts)
    assert all(p.grad is None for p in model.parameters())
