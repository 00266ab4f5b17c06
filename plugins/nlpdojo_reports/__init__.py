"""First-party report writers over the autograder's result model."""
