"""The shared kernel every context speaks: the shape of facts and commands, refusals, money, taxes, dates."""

__all__ = [
    "business_dates",
    "errors",
    "model",
    "money",
    "rates",
    "working_days",
]  # what other packages may import (tests/unit/test_dependency_rule.py)
