"""Topic ``layers``: its questions live in the course library (``library/``)."""
