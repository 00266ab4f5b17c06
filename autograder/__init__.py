"""nlpdojo autograder: checks, isolated runner, reports, and the ``grade`` command."""
