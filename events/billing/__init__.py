"""Billing: organisations, supplier invoices, disputes, credits and billing periods; commands, facts, decider."""
