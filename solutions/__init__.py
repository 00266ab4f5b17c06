"""Reference solutions, one package per topic. What students write sits between
``### BEGIN SOLUTION <question-id>`` and ``### END SOLUTION``; ``dojo release`` generates
``exercises/`` from here."""
