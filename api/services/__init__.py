"""Service and incident routes, service levels, and the public service status pages."""
