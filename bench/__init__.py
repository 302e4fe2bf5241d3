"""Benchmarks of orderledger (run by `make bench`): workloads, the peer library and the physical limit."""
