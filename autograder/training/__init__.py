"""The training kit, shared by every topic that trains a model:

* metric checks measured on the grader's side (:mod:`.trained`): the
  student's code trains from the grader's initial parameters (:class:`TrainingPlan`,
  :func:`initial_parameters`), the parameters come back as data, the grader scores held-out
  data with the reference's forward and audits every step (:func:`train_and_measure`,
  :func:`audit`);
* ``dojo train`` / ``dojo sample`` plumbing (:mod:`.train`): whose code
  trains (:class:`TopicCode`, :class:`CodeChoice`), data checks (:func:`require_datasets`),
  output files (:func:`check_output`) and the errors they raise (:class:`TrainError`).
"""

from nlpdojo_autograder.training.train import (
    CodeChoice,
    TopicCode,
    TrainError,
    check_output,
    require_datasets,
)
from nlpdojo_autograder.training.trained import (
    FLOAT64,
    LOSSES,
    PARAM,
    TrainingPlan,
    audit,
    initial_parameters,
    is_float64,
    train_and_measure,
)

__all__ = [
    "FLOAT64", "LOSSES", "PARAM", "CodeChoice", "TopicCode", "TrainError", "TrainingPlan",
    "audit", "check_output", "initial_parameters", "is_float64", "require_datasets",
    "train_and_measure",
]
