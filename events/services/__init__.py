"""Subscription services and incidents: commands, facts, the pure deciders and availability arithmetic."""

__all__ = [
    "availability",
    "commands",
    "decider",
    "facts",
]  # what other packages may import (tests/unit/test_dependency_rule.py)
