"""The code rules once more, where the code runs: the interpreter's own audit events.

The code rules (:mod:`.code_rules`) read a submission's source before it runs, by the names it
writes; a builtin reached under another name (``enum.bltns.exec``: the ``enum`` module keeps
the builtins module under that name) is the same builtin. CPython raises an audit event where
code runs a string or a code object, takes a frame, sets a tracer, reads a frame or a code
object off a generator, traceback or function, or loads native code; an audit hook cannot be
removed once added. So the worker adds one that refuses those events where the frame that
raised them is the submission's own code (a file of its folder): the grader's code in the
worker (the line counter sets its tracer; a given module is installed by ``exec``) and the
libraries the submission calls (a ``dataclass`` compiles its ``__init__``) are not refused.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from nlpdojo_autograder.runtime.probes import genuine_frozen

#: the audit events refused to the submission's own frames, and what the message calls them
REFUSED_EVENTS = {
    "exec": "running code from a string or a code object",
    "compile": "compiling code from a string",
    "sys._getframe": "taking a frame",
    "sys._current_frames": "taking the threads' frames",
    "sys.settrace": "setting a tracer",
    "sys.setprofile": "setting a profiler",
    "object.__getattr__": "reading a frame or a code object",
    "code.__new__": "making a code object",
    "function.__new__": "making a function from a code object",
    "marshal.loads": "loading code objects",
    "marshal.load": "loading code objects",
    "pickle.find_class": "loading a pickle",
    "gc.get_objects": "listing the interpreter's objects",
    "gc.get_referrers": "listing the interpreter's objects",
    "gc.get_referents": "listing the interpreter's objects",
    "ctypes.dlopen": "loading native code",
    "ctypes.dlsym": "loading native code",
    "ctypes.cdata": "reading native memory",
    "sys.addaudithook": "adding an audit hook",
    "_thread.start_new_thread": "starting a thread past threading",
    "cpython.PyInterpreterState_New": "starting a sub-interpreter",
}


#: the standard library's functions that take a frame only to hand it (or frames above it)
#: to their caller, by file name and function: their ``sys._getframe`` event is their
#: caller's to answer for (``inspect.currentframe().f_trace = None`` switched the line
#: counter off, where the code rules were not reading the module: an adversarial trial)
HANDING_FRAMES = frozenset({("inspect.py", "currentframe"), ("inspect.py", "stack"),
                            ("inspect.py", "trace"), ("traceback.py", "walk_stack"),
                            ("traceback.py", "walk_tb")})


#: the attributes whose reading (audit event ``object.__getattr__``) hands over a frame or a
#: code object; reading a frame's own ``f_code`` is what the line counter does at every call
#: (a frame the submission holds it got through one of these, refused)
YIELDING = frozenset({"gi_frame", "cr_frame", "ag_frame", "tb_frame", "__code__", "gi_code",
                      "cr_code", "ag_code"})


def refuse_reflection(submitted: Callable[[str], bool]) -> None:
    """Add the hook; ``submitted(filename)`` says whether a code object's file is the
    submission's. Code compiled from a string (``<string>``, ``<lambda>``, ``<given ...>``)
    counts as the submission's too: a library that runs what it was handed (``copy`` calling
    what a ``__reduce_ex__`` returned) cannot launder it; not the interpreter's frozen modules
    (``<frozen importlib._bootstrap>``), whose code is checked to be theirs."""
    def ours(code: Any) -> bool:
        filename = code.co_filename
        if type(filename) is not str:
            return True
        return submitted(filename) or (filename.startswith("<") and not genuine_frozen(code))

    inside = threading.local()

    def hook(event: str, args: tuple[Any, ...]) -> None:
        what = REFUSED_EVENTS.get(event)
        if what is None or (event == "object.__getattr__" and args[1] not in YIELDING) or \
                getattr(inside, "on", False):
            return
        inside.on = True  # (taking the frame below raises an event of its own)
        try:
            frame = sys._getframe(1)
            while (frame is not None and frame.f_back is not None
                   and (frame.f_code.co_filename.rpartition("/")[2],
                        frame.f_code.co_name) in HANDING_FRAMES
                   and not ours(frame.f_code)):  # (the library's, not a module of that name
                # in the submission, whose own frame answers for itself)
                frame = frame.f_back  # (the frame is handed to this one's caller)
            submission = frame is not None and ours(frame.f_code)
        finally:
            inside.on = False
        if submission:
            raise PermissionError(f"graded code may not reach the interpreter ({what}: audit "
                                  f"event {event}); the course's code needs none of this")

    sys.addaudithook(hook)
