"""First-party dataset plugins: real corpora with pinned sources and checksums."""
