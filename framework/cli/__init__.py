"""The ``dojo`` command line: one module per command group, joined in :mod:`nlpdojo.cli.app`."""
