"""Subscription services and incidents: commands, facts, the pure deciders and availability arithmetic."""
