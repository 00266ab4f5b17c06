"""The built-in course's topics, one folder each (``course/<topic>/``): a topic's questions
(one declaration each), checks, planted bugs, data preparation, trainers and fixtures. Each
folder is a plugin of its own, registered by :mod:`nlpdojo_course.plugin` as it is found:
adding a topic is adding a folder. Its reference solutions are ``solutions/<topic>/``
(``nlpdojo_solutions.<topic>``), beside the course library they import; they are what
students get, stubbed, and never ship in a student's wheel, while this package does."""
