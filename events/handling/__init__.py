"""Carrying commands out: load the streams from the ledger, decide with a context's decider, append."""
