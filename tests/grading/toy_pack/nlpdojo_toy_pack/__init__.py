"""A tiny exercise pack shipped as a plugin, exactly as an instructor's would be (tests only)."""
