"""The course record (issue 63): one SQLite file per course holding its assignments, roster,
every recorded attempt, the extensions and the overrides, from which the late policy and the
gradebook exports are computed.

One concept per module: :mod:`.schema` (the tables and their migrations), :mod:`.config` (the
instructor's course table), :mod:`.store` (the :class:`~.store.Course` handle every other
module reads and writes through), :mod:`.roster`, :mod:`.attempts`, :mod:`.policy`,
:mod:`.overrides`, :mod:`.exports` and :mod:`.cli` (``dojo course``). docs/course.md documents
the course table, the policies, the schema and the exports.

The course file is the instructor's: it is given explicitly (``--course PATH`` or
``NLPDOJO_COURSE``), never looked for in a submission, created readable by its owner only and
never copied into anything a student receives.
"""

#: the course file's variable, where ``--course`` is not given (here, not in :mod:`.store`:
#: ``grade`` reads it before it imports anything of the course record, which a grading without
#: a course never needs)
COURSE_ENV = "NLPDOJO_COURSE"
