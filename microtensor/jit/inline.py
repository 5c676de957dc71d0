"""An op's ``forward`` written into the replay: its body, with its arguments put in.

``v5 = Sum.forward(c5, v3, dim=(0,), keepdim=False)`` becomes ``v5 = v3.sum(axis=(0,),
keepdims=False)``: the NumPy the op runs, so that ``step.source`` reads as the hand-written
NumPy of the step, and the replay saves a Python call per op. The body is the forward's own
code (from its source, by ``ast``), changed only so that it fits in the replay:

- the local names get the event's number (``y`` -> ``y_5``); an argument that the body never
  assigns is replaced by what the event passes (a variable such as ``v3``, or a literal);
- ``ctx`` is the event's ``ReplayContext`` (``c5``); ``ctx.save_for_backward(...)`` and
  ``ctx.<name> = <value>`` are left out when nothing reads them (the replay never calls a
  backward) and computing the value has no effect (no call);
- assignments that nothing reads any more are left out, when computing them has no effect;
- ``if`` tests that the arguments decide (``b is not None`` for an array ``b``, ``dim is None``
  for a literal) keep only the branch taken: the arguments are the same at every replay;
- ``return value`` becomes ``v5 = value`` (a return inside an ``if`` followed by more
  statements puts them in its ``else``); a global name becomes the replay's name of the same
  object (``np``), bound when the replay is made: a module, a function, a class, or one of
  microtensor's own constants named in capitals (another global, or a user's constant, might
  be changed later).

A forward that does not fit (a closure, a nested function or comprehension, a ``return`` that
is not the last statement, ``*args``, a default that is not a plain literal, a source file
edited since the import) is called as it is (``Op.forward(c5, ...)``).
"""

from __future__ import annotations

import ast
import builtins
import copy
import inspect
import keyword
import re
import sys
import textwrap
import types
from collections.abc import Callable
from typing import Any

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
           ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.Yield, ast.YieldFrom, ast.Global,
           ast.Nonlocal, ast.Await)

_parsed: dict[Any, ast.FunctionDef | None] = {}
_OUT = "__out__"  # (the result, until it gets the event's variable)


def _parse(forward: Callable[..., Any]) -> ast.FunctionDef | None:
    """The forward's definition, if it can be written into a replay (cached)."""
    if forward in _parsed:
        return _parsed[forward]
    tree: ast.FunctionDef | None = None
    try:
        code = forward.__code__
        source = textwrap.dedent(inspect.getsource(forward))
        node = ast.parse(source).body[0]
        if _same_code(source, code) and not code.co_freevars \
                and isinstance(node, ast.FunctionDef) \
                and node.args.vararg is None and node.args.kwarg is None \
                and not node.args.posonlyargs and node.args.args \
                and not any(isinstance(n, _NESTED) for n in ast.walk(node)
                            if n is not node):
            tree = node
    except (OSError, TypeError, AttributeError, SyntaxError, IndexError):
        tree = None
    _parsed[forward] = tree
    return tree


def _same_code(source: str, code: types.CodeType) -> bool:
    """Whether ``source`` still looks like the function that runs: the same names, constants
    and number of lines (its file may have been edited since it was imported; then the replay
    calls the forward rather than write in code that does not run)."""
    compiled = compile(source, code.co_filename, "exec")
    spans = [line for _, _, line in code.co_lines() if line is not None]
    for const in compiled.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == code.co_name:
            mine = [line for _, _, line in const.co_lines() if line is not None]
            return (const.co_consts == code.co_consts and const.co_names == code.co_names
                    and const.co_varnames == code.co_varnames
                    and max(mine) - min(mine) == max(spans) - min(spans))
    return False


class _Array:
    """The value of an argument that is an array (a variable of the replay): not None."""


def _constant(node: ast.expr, known: dict[str, Any]) -> Any:
    """The value of an ``if`` test that the arguments decide, else ``_Unknown``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and node.id in known:
        return known[node.id]
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
            and isinstance(node.value.value, ast.Name) and isinstance(node.slice, ast.Constant) \
            and f"{node.value.value.id}.{node.value.attr}" in known:
        values = known[f"{node.value.value.id}.{node.value.attr}"]  # (ctx.needs_input_grad)
        return values[node.slice.value] if type(node.slice.value) is int \
            and -len(values) <= node.slice.value < len(values) else _Unknown
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        value = _constant(node.operand, known)
        return _Unknown if value is _Unknown or value is _Array else not value
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        left, right = _constant(node.left, known), _constant(node.comparators[0], known)
        if left is _Unknown or right is _Unknown:
            return _Unknown
        op = node.ops[0]
        if isinstance(op, (ast.Is, ast.IsNot)) and (left is None or right is None):
            same = left is right
            return same if isinstance(op, ast.Is) else not same
        if _Array in (left, right):
            return _Unknown
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        return _Unknown
    if isinstance(node, ast.BoolOp):
        values = [_constant(v, known) for v in node.values]
        if any(v is _Unknown or v is _Array for v in values):
            return _Unknown
        return all(values) if isinstance(node.op, ast.And) else any(values)
    return _Unknown


class _Unknown:
    """A test the arguments do not decide."""


def _is_pure(node: ast.expr) -> bool:
    """Whether computing ``node`` has no effect besides its value (no call)."""
    return not any(isinstance(n, (ast.Call, ast.NamedExpr)) for n in ast.walk(node))


def _stores(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for stmt in body:
        for n in ast.walk(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, (ast.Store, ast.Del)):
                names.add(n.id)
    return names


def write(forward: Callable[..., Any], index: int, args: list[str], kwargs: dict[str, str],
          out: str, scalar: bool, needs: tuple[bool, ...], ctx_reads: set[str],
          name_of: Callable[[Any, str], str], taken: Callable[[str], bool]
          ) -> tuple[list[str], list[str]] | None:
    """The lines of ``out = forward(ctx, *args, **kwargs)`` written out and the local names
    they use (``y_5``), or None when the forward does not fit (see the module's docstring).

    Args:
        forward: the op's forward function.
        index: the event's number (the suffix of local names; ``ctx`` is ``c<index>``).
        args, kwargs: the source of the arguments after ``ctx``: a name (a variable of the
            replay, or of an object in its namespace) or a literal.
        out: the variable to assign.
        scalar: wrap the result in ``asarray`` (NumPy returned a scalar).
        needs: the op's ``needs_input_grad`` (tests on it are decided).
        ctx_reads: the ``ctx`` attributes that later lines of the replay read (``saved[0]``,
            ``mask``).
        name_of: the replay's name of a global object (``name_of(np, "np")``).
        taken: whether a name is already used by the replay.
    """
    # NOTE: the lines are made once per op and kind of arguments (a template, with
    # placeholders for names): an RNN step applies the same few ops hundreds of times.
    variables = [a for a in args if _is_variable(a)]
    variables += [v for v in kwargs.values() if _is_variable(v)]
    shape = (tuple("" if _is_variable(a) else a for a in args),
             tuple((k, "" if _is_variable(v) else v) for k, v in kwargs.items()))
    key = (forward, shape, scalar, needs, frozenset(ctx_reads))
    if key not in _templates:
        _templates[key] = _template(forward, shape, scalar, needs, ctx_reads)
    template = _templates[key]
    if template is None:
        return None
    text, local, used = template
    globals_ = forward.__globals__
    replace = {f"MTVAR{k}MT": v for k, v in enumerate(variables)}
    replace.update({f"MTLOCAL{n}MT": f"{n}_{index}" for n in local})
    if any(taken(n) for n in replace.values() if n not in variables):
        return None
    for name in used:  # (globals and builtins)
        if name in globals_:
            replace[f"MTGLOBAL{name}MT"] = name_of(globals_[name], name)
        elif taken(name):
            return None  # (a builtin whose name the replay gives to something else)
        else:
            replace[f"MTGLOBAL{name}MT"] = name
    replace["MTCTXMT"] = f"c{index}"
    replace["MTOUTMT"] = out
    lines = _PLACEHOLDER.sub(lambda m: replace[m.group(0)], text).splitlines()
    return lines, [f"{n}_{index}" for n in local]


def _is_variable(source: str) -> bool:
    """Whether an argument's source is a name (not a literal such as ``None``)."""
    return source.isidentifier() and not keyword.iskeyword(source)


_PLACEHOLDER = re.compile(r"MT(?:VAR\d+|LOCAL\w+?|GLOBAL\w+?|CTX|OUT)MT")
_templates: dict[Any, tuple[str, list[str], list[str]] | None] = {}


def _template(forward: Callable[..., Any], shape: tuple[Any, ...], scalar: bool,
              needs: tuple[bool, ...], ctx_reads: set[str]
              ) -> tuple[str, list[str], list[str]] | None:
    """``write``'s lines with placeholders (``MTVAR0MT`` for the first variable argument,
    ``MTLOCALyMT`` for local ``y``, ``MTGLOBALnpMT``, ``MTCTXMT``, ``MTOUTMT``), the local
    names and the global names used; None when the forward does not fit."""
    tree = _parse(forward)
    if tree is None:
        return None
    tree = copy.deepcopy(tree)
    arg_shapes, kwarg_shapes = shape
    n_var = 0
    args: list[str] = []
    for a in arg_shapes:
        args.append(a or f"MTVAR{n_var}MT")
        n_var += not a
    kwargs: dict[str, str] = {}
    for k, v in kwarg_shapes:
        kwargs[k] = v or f"MTVAR{n_var}MT"
        n_var += not v
    params = [a.arg for a in tree.args.args]
    kwonly = [a.arg for a in tree.args.kwonlyargs]
    defaults = dict(zip(params[len(params) - len(forward.__defaults__ or ()):],
                        forward.__defaults__ or (), strict=True))
    defaults.update(forward.__kwdefaults__ or {})
    ctx_name, params = params[0], params[1:]
    if len(args) > len(params) or any(k not in params and k not in kwonly for k in kwargs):
        return None
    bound: dict[str, str | None] = {}
    positional = dict(zip(params, args))  # noqa: B905 (fewer arguments than parameters)
    for p in params + kwonly:
        if p in kwargs:
            bound[p] = kwargs[p]
        elif p in positional:
            bound[p] = positional[p]
        elif p in defaults:
            bound[p] = None  # (the default, rendered below)
        else:
            return None
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # (the docstring)
    known: dict[str, Any] = {}
    sources: dict[str, tuple[str, ast.expr]] = {}
    for p, src in bound.items():
        if src is None:
            value = defaults[p]
            if not (value is None or type(value) in (bool, int, float, str)):
                return None
            src = repr(value)
        expr = ast.parse(src, mode="eval").body
        try:
            known[p] = ast.literal_eval(expr)
        except ValueError:
            known[p] = _Array if isinstance(expr, ast.Name) else _Unknown
        sources[p] = (src, expr)
    known[f"{ctx_name}.needs_input_grad"] = needs
    folded = _fold(_else_after_return(body), known)
    if not folded or not _tail(folded):
        return None
    body = _drop_unread(_drop_unread_ctx(folded, ctx_name, ctx_reads), forward.__globals__)
    if any(isinstance(n, ast.Return) for s in body for n in ast.walk(s)):
        return None  # (a return that is not the last statement)
    if any(isinstance(n, ast.Compare) and any(isinstance(o, (ast.Is, ast.IsNot)) for o in n.ops)
           and any(isinstance(m, ast.Name) and m.id in sources for m in ast.walk(n))
           for s in body for n in ast.walk(s)):
        return None  # (an identity test on an argument: a literal put in would change it)
    stored = _stores(body)
    local = sorted(set(forward.__code__.co_varnames) - {ctx_name})
    rename = {n: f"MTLOCAL{n}MT" for n in local}
    rename[_OUT] = "MTOUTMT"
    substitute: dict[str, ast.expr] = {}
    prologue: list[str] = []
    for p, (src, expr) in sources.items():
        if p in stored:
            prologue.append(f"{rename[p]} = {src}")
        else:
            substitute[p] = expr
    # ``out = name`` at the end: the local itself becomes ``out``.
    last = body[-1]
    if isinstance(last, ast.Assign) and isinstance(last.value, ast.Name) \
            and last.value.id in local and last.value.id not in substitute \
            and isinstance(last.targets[0], ast.Name) and last.targets[0].id == _OUT:
        rename[last.value.id] = "MTOUTMT"
        body.pop()
    used: set[str] = set()
    globals_ = forward.__globals__
    own = forward.__module__.startswith("microtensor.")

    class Rewrite(ast.NodeTransformer):
        failed = False

        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id == ctx_name:
                return ast.copy_location(ast.Name("MTCTXMT", node.ctx), node)
            if node.id in substitute:
                return copy.deepcopy(substitute[node.id])
            if node.id in rename:
                return ast.copy_location(ast.Name(rename[node.id], node.ctx), node)
            if node.id in globals_:
                # (its object is bound when the replay is made: a module, a function or a
                # class, or one of microtensor's constants named as one; a global that may be
                # rebound is not, nor a user's constant, which a user may change)
                value = globals_[node.id]
                if not (callable(value) or isinstance(value, types.ModuleType)
                        or (node.id.lstrip("_").isupper() and own)):
                    self.failed = True
            elif not hasattr(builtins, node.id):
                self.failed = True
            used.add(node.id)
            return ast.copy_location(ast.Name(f"MTGLOBAL{node.id}MT", node.ctx), node)

    rewrite = Rewrite()
    lines = list(prologue)
    for stmt in body:
        lines += ast.unparse(rewrite.visit(stmt)).splitlines()
    if rewrite.failed:
        return None
    if scalar:
        lines.append("MTOUTMT = asarray(MTOUTMT)")
    local_used = [n for n in local if rename.get(n) == f"MTLOCAL{n}MT"]
    return "\n".join(lines), local_used, sorted(used)


class _FoldExpressions(ast.NodeTransformer):
    """Tests that the arguments decide, inside expressions: ``a if dim is None else b`` is
    ``a`` for ``dim=None``; ``dim is None`` is ``True``."""

    def __init__(self, known: dict[str, Any]) -> None:
        self.known = known

    def _decided(self, node: ast.expr) -> ast.expr | None:
        value = _constant(node, self.known)
        if value is _Unknown or value is _Array or type(value) not in (bool, type(None)):
            return None
        return ast.copy_location(ast.Constant(value), node)

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        value = _constant(node.test, self.known)
        if value is not _Unknown and value is not _Array:
            branch: ast.AST = self.visit(node.body if value else node.orelse)
            return branch
        self.generic_visit(node)
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        decided = self._decided(node)
        return decided if decided is not None else self._visit_inside(node)

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        decided = self._decided(node)
        return decided if decided is not None else self._visit_inside(node)

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        decided = self._decided(node) if isinstance(node.op, ast.Not) else None
        return decided if decided is not None else self._visit_inside(node)

    def _visit_inside(self, node: ast.AST) -> ast.AST:
        self.generic_visit(node)
        return node


def _fold(body: list[ast.stmt], known: dict[str, Any]) -> list[ast.stmt] | None:
    """``body`` with each ``if`` whose test the arguments decide replaced by its branch, and
    such tests inside expressions decided (``_FoldExpressions``)."""
    new: list[ast.stmt] = []
    fold = _FoldExpressions(known)
    for stmt in body:
        if isinstance(stmt, ast.If):
            value = _constant(stmt.test, known)
            if value is not _Unknown and value is not _Array:
                branch = _fold(stmt.body if value else stmt.orelse, known)
                if branch is None:
                    return None
                new += branch
                continue
            then, orelse = _fold(stmt.body, known), _fold(stmt.orelse, known)
            if then is None or orelse is None:
                return None
            stmt.body, stmt.orelse = then or [ast.Pass()], orelse
            stmt.test = fold.visit(stmt.test)
            new.append(stmt)
            continue
        if isinstance(stmt, (ast.For, ast.While, ast.With, ast.Try)):
            new.append(stmt)  # (their blocks are kept as they are)
            continue
        new.append(fold.visit(stmt))
    return new


def _drop_unread_ctx(body: list[ast.stmt], ctx: str, reads: set[str]) -> list[ast.stmt]:
    """``body`` without ``ctx.save_for_backward(...)`` and ``ctx.<name> = value`` statements
    that nothing reads (and whose values have no effect)."""
    read = {n.attr for s in body for n in ast.walk(s)
            if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name)
            and n.value.id == ctx and isinstance(n.ctx, ast.Load)}
    saved_read = any(r.startswith("saved[") for r in reads)
    kept: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) \
                and isinstance(stmt.value.func, ast.Attribute) \
                and isinstance(stmt.value.func.value, ast.Name) \
                and stmt.value.func.value.id == ctx \
                and stmt.value.func.attr == "save_for_backward" and not saved_read \
                and all(_is_pure(a) for a in stmt.value.args):
            continue
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                and isinstance(stmt.targets[0], ast.Attribute) \
                and isinstance(stmt.targets[0].value, ast.Name) \
                and stmt.targets[0].value.id == ctx \
                and stmt.targets[0].attr not in read and stmt.targets[0].attr not in reads \
                and _is_pure(stmt.value):
            continue
        kept.append(stmt)
    return kept


def _else_after_return(body: list[ast.stmt]) -> list[ast.stmt]:
    """``if c: ...; return a`` followed by more statements, as ``if c: ...; return a`` /
    ``else: <the rest>`` (so that every return ends the body)."""
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.If) and not stmt.orelse and i + 1 < len(body) \
                and _ends_in_return(stmt.body):
            stmt.body = _else_after_return(stmt.body)
            stmt.orelse = _else_after_return(body[i + 1:])
            return [*body[:i], stmt]
    return body


def _drop_unread(body: list[ast.stmt], globals_: dict[str, Any]) -> list[ast.stmt]:
    """``body`` without assignments to local names that nothing reads, when computing the
    value has no effect: operators, and calls of NumPy functions (not ``np.random``, not with
    ``out=``). What a folded branch or a left-out ``ctx`` attribute no longer needs goes."""
    numpy = sys.modules["numpy"]

    def harmless(node: ast.expr) -> bool:
        for n in ast.walk(node):
            if isinstance(n, ast.NamedExpr):
                return False
            if isinstance(n, ast.Call):
                f = n.func
                if not (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name)
                        and globals_.get(f.value.id) is numpy and f.attr != "random"
                        and all(k.arg != "out" for k in n.keywords)):
                    return False
        return True

    while True:
        read = {n.id for s in body for n in ast.walk(s)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
        kept = [s for s in body
                if not (isinstance(s, ast.Assign) and len(s.targets) == 1
                        and isinstance(s.targets[0], ast.Name) and s.targets[0].id != _OUT
                        and s.targets[0].id not in read and harmless(s.value))]
        if len(kept) == len(body):
            return body
        body = kept


def _ends_in_return(body: list[ast.stmt]) -> bool:
    """Whether every path through ``body`` ends in a ``return`` (also inside a final ``with``
    block, or both branches of a final ``if``)."""
    last = body[-1]
    if isinstance(last, ast.Return):
        return True
    if isinstance(last, ast.With):
        return _ends_in_return(last.body)
    return isinstance(last, ast.If) and bool(last.orelse) and _ends_in_return(last.body) \
        and _ends_in_return(last.orelse)


def _tail(body: list[ast.stmt]) -> bool:
    """Replace each ``return value`` that ends ``body`` (in a final ``if`` / ``else``, or
    ``with`` block too) by ``_OUT = value``; False when some path does not end so."""
    last = body[-1]
    if isinstance(last, ast.Return) and last.value is not None:
        body[-1] = ast.copy_location(
            ast.Assign([ast.Name(_OUT, ast.Store())], last.value, lineno=last.lineno), last)
        return True
    if isinstance(last, ast.Raise):
        return True
    if isinstance(last, ast.If):
        return bool(last.orelse) and _tail(last.body) and _tail(last.orelse)
    return isinstance(last, ast.With) and bool(last.body) and _tail(last.body)
