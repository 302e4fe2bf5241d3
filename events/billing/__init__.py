"""Billing: organisations, supplier invoices, disputes, credits and billing periods; commands, facts, decider."""

__all__ = ["commands", "decider", "facts"]  # what other packages may import (tests/unit/test_dependency_rule.py)
