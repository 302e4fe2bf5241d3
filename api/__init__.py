"""HTTP API, status pages and command line of orderledger."""
