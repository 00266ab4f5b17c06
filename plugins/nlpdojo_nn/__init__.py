"""Reference layers, losses and optimizers, written once against the array API namespace.

They run unchanged on every backend; a backend plugin may register a native implementation
under the same name (``backend="torch"``), proven equal to these by parity tests.
"""
