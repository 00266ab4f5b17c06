"""Data sets: sources, checksums, an atomic fetch into a cache, and the cache's location."""
