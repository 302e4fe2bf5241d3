"""Contract routes and the public contracts dashboard."""

__all__ = ["pages", "routes"]  # what other packages may import (tests/unit/test_dependency_rule.py)
