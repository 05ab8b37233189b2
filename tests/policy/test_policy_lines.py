"""The line locator finds where every key of a valid TOML document starts."""

from __future__ import annotations

import json
import tomllib

from hypothesis import given, settings
from hypothesis import strategies as st
from neon_keys.policy._toml_lines import line_of, locate

_TRICKY = st.sampled_from(
    [
        "plain",
        "with = sign",
        "# not a comment",
        "[not] [[a]] header",
        'quote \\" inside',
        "a\\nb",
        "'",
    ]
)


@st.composite
def scalar(draw: st.DrawFn) -> str:
    """A scalar value as TOML writes it: strings of every kind, numbers, a date."""
    text = draw(_TRICKY)
    kinds = [
        json.dumps(text),
        "'" + text.replace("'", "x") + "'",
        '"""\n' + text + '\nsecond line"""',
        "'''" + text.replace("'", "x") + "\n'''",
        str(draw(st.integers(-5, 5))),
        "1979-05-27 07:32:00Z",
        "true",
    ]
    return draw(st.sampled_from(kinds))


@st.composite
def document(draw: st.DrawFn) -> tuple[str, dict[tuple[object, ...], int]]:
    """A document and the line each of its leaves is written on."""
    lines: list[str] = []
    expected: dict[tuple[object, ...], int] = {}

    def emit(text: str) -> int:
        start = len("\n".join(lines).split("\n")) + 1 if lines else 1
        lines.append(text)
        return start

    def padding() -> None:
        for _ in range(draw(st.integers(0, 2))):
            emit(draw(st.sampled_from(["", "# a comment with = and [x]", "   "])))

    def key_values(prefix: tuple[object, ...]) -> None:
        for index in range(draw(st.integers(1, 3))):
            padding()
            name = f"k{index}"
            quoted = draw(st.booleans())
            written = f'"{name}"' if quoted else name
            shape = draw(st.sampled_from(["scalar", "array", "multiline", "inline", "dotted"]))
            if shape == "scalar":
                expected[(*prefix, name)] = emit(f"{written} = {draw(scalar())}  # c")
            elif shape == "array":
                values = [draw(scalar()).replace("\n", " ") for _ in range(2)]
                values = [v for v in values if '"""' not in v and "'''" not in v] or ["1"]
                line = emit(f"{written} = [{', '.join(values)}]")
                expected[(*prefix, name, len(values) - 1)] = line
            elif shape == "multiline":
                emit(f"{written} = [")
                for position in range(2):
                    value = draw(scalar())
                    expected[(*prefix, name, position)] = emit(f"  {value},  # element {position}")
                emit("]")
            elif shape == "inline":
                expected[(*prefix, name, "inner")] = emit(
                    f"{written} = {{ inner = 1, other = '[x] = y' }}"
                )
            else:
                expected[(*prefix, name, "deep")] = emit(f"{written} . deep = {draw(scalar())}")

    key_values(())
    for table in range(draw(st.integers(0, 2))):
        padding()
        emit(f"[table{table}]")
        key_values((f"table{table}",))
    for index in range(draw(st.integers(0, 3))):
        padding()
        expected[("entries", index)] = emit("[[entries]]")
        key_values(("entries", index))
        if draw(st.booleans()):
            expected[("entries", index, "sub")] = emit("[entries.sub]")
            key_values(("entries", index, "sub"))
    return "\n".join(lines) + "\n", expected


@settings(max_examples=150, deadline=None)
@given(document())
def test_every_leaf_is_found_on_its_line(
    generated: tuple[str, dict[tuple[object, ...], int]],
) -> None:
    """For documents of every shape, each key and element is located on the line it is on."""
    text, expected = generated
    tomllib.loads(text)  # the generator writes valid TOML only
    found = locate(text)
    for path, line in expected.items():
        assert found.get(path) == line, (path, text)


def test_a_missing_key_falls_back_to_its_table() -> None:
    """A path with no line of its own takes the line of the nearest enclosing place."""
    found = locate('version = 1\n\n[[keys]]\nname = "x"\n')
    assert line_of(found, ("keys", 0, "scope")) == 3
    assert line_of(found, ("nothing",)) == 1
