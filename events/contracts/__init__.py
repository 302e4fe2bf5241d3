"""Contracts: capacity, inventory stock, consumption and renewals; commands, facts, the pure decider."""
