"""Reference layers, losses and optimizers, written once against the array API namespace.

They run unchanged on every backend; a backend plugin may register a native variant of a name
(``natives=`` / ``backend="torch"``), used only on request and proven equal to these by a
parity test (:mod:`nlpdojo.gradcheck.parity`).
"""
