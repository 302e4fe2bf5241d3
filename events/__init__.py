"""Events, commands and deciders of orderledger: the pure core (no I/O, no clock)."""
