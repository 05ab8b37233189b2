"""Build hook: the wheel ships the parts of the generated package that ``neon_keys`` uses.

``pyproject.toml`` excludes the unused generated modules from the wheel
(``[tool.hatch.build.targets.wheel] exclude``) and lists, under this hook's table, files to
put in place of excluded ones (``replace``: source path -> path in the wheel), such as an
``__init__.py`` that does not import the excluded ``client.py``. The replacements are added
to standard wheels only: an editable install reads ``generated/`` directly and must keep the
generator's own ``__init__.py``. ``tools/vendor.py`` applies the same two settings.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class ShippedSubsetHook(BuildHookInterface):  # type: ignore[type-arg]  (generic in hatchling)
    """Adds the ``replace`` files to standard wheels."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Put each replacement in place (standard builds only)."""
        if version == "editable":
            return
        for source, target in self.config.get("replace", {}).items():
            path = Path(self.root, source)
            if not path.is_file():
                raise FileNotFoundError(f"{source}: replacement named in pyproject.toml is missing")
            build_data["force_include"][str(path)] = target
