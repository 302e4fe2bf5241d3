"""Orders, from placement to closing: commands, facts, the pure decider and pricing."""

__all__ = ["commands", "decider", "facts"]  # what other packages may import (tests/unit/test_dependency_rule.py)
