"""``python -m nlpdojo_autograder``: the ``grade`` command."""

from nlpdojo_autograder.cli.grade import main

if __name__ == "__main__":
    main()
