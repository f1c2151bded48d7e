"""The matching engine: plain Python (no Django), called by the apps and benchmarked on its own."""
