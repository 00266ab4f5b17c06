"""Topic ``toy``: two questions, the second built on the first."""
