"""Order routes and the public order status pages, and the batch endpoint for orders and contracts."""
