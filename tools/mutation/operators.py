"""One-line mutants of a module: where each is, what it changes, and the mutated source.

A mutant changes one node of the syntax tree and nothing else; the rest of the source, its
comments and its line numbers stay as they are (the node's own text is replaced). The kinds:

- comparison: ``<`` and ``<=``, ``>`` and ``>=``, ``==`` and ``!=``, ``is`` and ``is not``,
  ``in`` and ``not in`` swapped;
- boolean: ``and`` and ``or`` swapped, ``not x`` made ``x``;
- arithmetic: ``+`` and ``-``, ``*`` and ``/``, ``//`` made ``/``, ``%`` made ``*``, ``**``
  made ``*``, in expressions and augmented assignments (``+=``);
- constant: an integer or float ``n`` made ``n + 1`` (``1`` also ``0``), ``True`` and
  ``False`` swapped;
- return: ``return x`` made ``return None``;
- call: a call standing as a statement removed (logging at DEBUG and INFO aside);
- loop: ``break`` and ``continue`` swapped.

Left alone: docstrings and other strings, annotations, ``__all__``, ``if TYPE_CHECKING:``
blocks, and any line carrying ``# pragma: no mutate`` (for an equivalent mutant, with a word
on why next to it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

PRAGMA = "pragma: no mutate"
COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
ARITHMETIC_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
}
QUIET_LOG_CALLS = frozenset({"debug", "info"})


@dataclass(frozen=True)
class Mutant:
    """One mutant of one module: its place, a readable change, and the whole new source."""

    path: str  # the module's path relative to the package folder, "/" separators
    line: int  # first line of the changed node
    end_line: int  # its last line
    change: str  # "a < b -> a <= b"
    source: str  # the module's full source with the change applied


def _segment(node: ast.AST) -> tuple[int, int, int, int]:
    return (
        node.lineno,  # type: ignore[attr-defined]
        node.col_offset,  # type: ignore[attr-defined]
        node.end_lineno,  # type: ignore[attr-defined]
        node.end_col_offset,  # type: ignore[attr-defined]
    )


def _replace(source: str, node: ast.AST, text: str) -> str:
    """``source`` with the text of ``node`` replaced by ``text``."""
    lines = source.splitlines(keepends=True)
    line, col, end_line, end_col = _segment(node)
    # Column offsets are in UTF-8 bytes.
    first = lines[line - 1].encode()
    last = lines[end_line - 1].encode()
    before = first[:col].decode()
    after = last[end_col:].decode()
    return "".join([*lines[: line - 1], before, text, after, *lines[end_line:]])


def _skipped_lines(tree: ast.Module, source: str) -> set[int]:
    """Lines never mutated: pragmas, docstrings, ``__all__`` and TYPE_CHECKING blocks."""
    skipped = {n for n, text in enumerate(source.splitlines(), start=1) if PRAGMA in text}
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            skipped.update(range(body[0].lineno, body[0].end_lineno + 1))  # type: ignore[operator]
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets):
                skipped.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            skipped.update(range(node.lineno, node.end_lineno + 1))  # type: ignore[operator]
    return skipped


def _annotation_nodes(tree: ast.Module) -> set[int]:
    """``id()`` of every node inside an annotation (never mutated)."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        annotations: list[ast.AST | None] = []
        if isinstance(node, ast.arg):
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            annotations.append(node.returns)
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None:
                inside.update(id(sub) for sub in ast.walk(annotation))
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):  # f-strings: their parts are text, not logic
            inside.update(id(sub) for sub in ast.walk(node) if isinstance(sub, ast.Constant))
    return inside


def _variants(node: ast.AST) -> Iterator[ast.AST | str]:
    """Each mutated form of ``node``: a node, or the source text that replaces it."""
    if isinstance(node, ast.Compare):
        for index, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap is not None:
                ops = [*node.ops]
                ops[index] = swap()
                yield ast.Compare(node.left, ops, node.comparators)
    elif isinstance(node, ast.BoolOp):
        other = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        yield ast.BoolOp(other, node.values)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        yield node.operand
    elif isinstance(node, ast.BinOp) and type(node.op) in ARITHMETIC_SWAPS:
        yield ast.BinOp(node.left, ARITHMETIC_SWAPS[type(node.op)](), node.right)
    elif isinstance(node, ast.AugAssign) and type(node.op) in ARITHMETIC_SWAPS:
        yield ast.AugAssign(node.target, ARITHMETIC_SWAPS[type(node.op)](), node.value)
    elif isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool):
            yield ast.Constant(not value)
        elif isinstance(value, int | float):
            yield ast.Constant(value + 1)
            if value == 1:
                yield ast.Constant(0)
    elif isinstance(node, ast.Return) and node.value is not None:
        if not (isinstance(node.value, ast.Constant) and node.value.value is None):
            yield "return None"
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call | ast.Await):
        call = node.value.value if isinstance(node.value, ast.Await) else node.value
        func = call.func if isinstance(call, ast.Call) else None
        name = func.attr if isinstance(func, ast.Attribute) else ""
        if name not in QUIET_LOG_CALLS:
            yield "pass"
    elif isinstance(node, ast.Break):
        yield "continue"
    elif isinstance(node, ast.Continue):
        yield "break"


def _text(node: ast.AST | str, original: ast.AST) -> str:
    if isinstance(node, str):
        return node
    text = ast.unparse(node)
    return text if isinstance(original, ast.stmt) else f"({text})"


def _short(text: str, limit: int = 70) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 3] + "..."


def mutants_of(source: str, path: str) -> list[Mutant]:
    """Every mutant of one module's source, in order of place."""
    tree = ast.parse(source)
    skipped = _skipped_lines(tree, source)
    annotations = _annotation_nodes(tree)
    found: list[Mutant] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", None)
        if line is None or id(node) in annotations:
            continue
        end_line = getattr(node, "end_lineno", None) or line
        if skipped.intersection(range(line, end_line + 1)):
            continue
        original = ast.get_source_segment(source, node) or ast.unparse(node)
        for variant in _variants(node):
            text = _text(variant, node)
            mutated = _replace(source, node, text)
            if mutated == source:
                continue
            change = f"{_short(original)} -> {_short(text)}"
            found.append(Mutant(path, line, end_line, change, mutated))
    found.sort(key=lambda m: (m.line, m.change))
    return found
