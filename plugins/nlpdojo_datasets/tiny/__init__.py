"""The project's own tiny tagged corpus (package data), for fast tests and first experiments."""
