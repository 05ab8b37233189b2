"""The library's version (semantic versioning; see MAINTAINING.md)."""

__version__ = "0.1.0"
