"""What integrators subscribe to: the event feed, the event catalogue and schemas, webhooks."""

__all__ = [
    "event_catalogue",
    "event_feed",
    "subscriptions",
]  # what other packages may import (tests/unit/test_dependency_rule.py)
