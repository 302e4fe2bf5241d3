"""Contract routes and the public contracts dashboard."""
