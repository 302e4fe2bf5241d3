"""What the ledger publishes: CloudEvents, JSON Schemas, the AsyncAPI document, who may see an event."""
