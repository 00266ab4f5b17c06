"""A two-topic toy course for the tests: topic ``layers`` teaches an affine layer, a loss and
an optimizer in the course library; topic ``models`` builds a regressor from that layer."""
