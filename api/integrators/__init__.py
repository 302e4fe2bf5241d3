"""What integrators subscribe to: the event feed, the event catalogue and schemas, webhooks."""
