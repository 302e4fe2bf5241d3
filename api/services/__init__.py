"""Service and incident routes, service levels, and the public service status pages."""

__all__ = ["levels", "pages", "routes"]  # what other packages may import (tests/unit/test_dependency_rule.py)
