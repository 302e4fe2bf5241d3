"""Contracts: capacity, inventory stock, consumption and renewals; commands, facts, the pure decider."""

__all__ = ["commands", "decider", "facts"]  # what other packages may import (tests/unit/test_dependency_rule.py)
