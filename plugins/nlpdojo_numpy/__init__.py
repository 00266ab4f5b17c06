"""The NumPy reference backend (CPU): the semantics every other backend is checked against."""
