"""A description with its prose removed: what a test fixture of Neon's facts may hold."""

from __future__ import annotations

from typing import Any

from .schemas import NOT_FACTS


def without_prose(node: Any, *, names: bool = False) -> Any:
    """``node`` without descriptions, summaries, titles and examples, at any depth.

    ``names`` is true for a ``properties`` mapping, whose keys are property names (a property
    may be called ``description``) and are kept.
    """
    if isinstance(node, dict):
        return {
            key: without_prose(value, names=key == "properties" and not names)
            for key, value in node.items()
            if names or key not in NOT_FACTS
        }
    if isinstance(node, list):
        return [without_prose(item) for item in node]
    return node
