"""Runners that keep projections up to date from the ledger, and the wiring of adapters."""
