"""Question ``scale``."""

from array_api_compat import array_namespace


def scale(x, k):
    """``x * k`` elementwise."""
    xp = array_namespace(x)
    ### BEGIN SOLUTION scale
    return xp.multiply(x, k)
    ### END SOLUTION
