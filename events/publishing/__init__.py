"""What the ledger publishes: CloudEvents, JSON Schemas, the AsyncAPI document, who may see an event."""

__all__ = [
    "asyncapi",
    "audience",
    "cloud_events",
    "json_schemas",
]  # what other packages may import (tests/unit/test_dependency_rule.py)
