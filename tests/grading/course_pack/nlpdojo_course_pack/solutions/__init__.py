"""The toy course's reference solutions: the library and two topics."""
