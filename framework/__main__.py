"""``python -m nlpdojo``: the ``dojo`` command."""

from nlpdojo.cli.app import main

if __name__ == "__main__":
    main()
