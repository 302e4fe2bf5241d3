"""Carrying commands out: load the streams from the ledger, decide with a context's decider, append."""

__all__ = [
    "batches",
    "billing",
    "desk",
    "order_numbers",
    "services",
]  # what other packages may import (tests/unit/test_dependency_rule.py)
