"""The topic's parity tests run on every device (``tests/_devices.py``)."""

from tests._devices import backend  # noqa: F401 - the fixture, for this folder's tests
