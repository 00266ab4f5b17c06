"""Topic ``models``: a regressor built from the library's affine layer."""
