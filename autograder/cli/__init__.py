"""The command lines (docs/architecture.md): ``grade`` (``grade``, its options in
``grade_options``), the engine's ``dojo`` commands (``commands``, ``grading_commands``,
``notebook_commands``) and the pytest plugin. Nothing in the engine imports it but the
engine's plugin module."""
