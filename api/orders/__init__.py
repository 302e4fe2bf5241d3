"""Order routes and the public order status pages, and the batch endpoint for orders and contracts."""

__all__ = ["batch", "pages", "routes"]  # what other packages may import (tests/unit/test_dependency_rule.py)
