"""Billing commands, chargeback reads and exports, and the statement pages for client finance teams."""

__all__ = ["chargeback", "pages", "routes"]  # what other packages may import (tests/unit/test_dependency_rule.py)
