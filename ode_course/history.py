"""What a training loop measured: :class:`TrainingHistory`, the result of every ``fit_*``.

The package has one trainer per kind of model — :func:`~ode_course.mlp.fit_mlp` (Chapters 2–3),
:func:`~ode_course.models.fit_classifier` (5), :func:`~ode_course.cnf.fit_density` (7),
:func:`~ode_course.latent.fit_series` (8), :func:`~ode_course.flow_matching.fit_flow_matching`
(9) — and one vocabulary for them: the model first and trained in place, the length as
``epochs=`` (passes over the data) or ``steps=`` (minibatches), ``seed=`` for every random draw
of the loop, and this record back.

Example:
    >>> history = TrainingHistory(per="step")
    >>> history.record(2.0); history.record(1.5)
    >>> history.train_loss, len(history), history.per
    ([2.0, 1.5], 2, 'step')
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ode_course import _validate

__all__ = ["TrainingHistory"]


@dataclass
class TrainingHistory:
    """The losses of a training run, one entry per epoch or per step, and what it cost.

    Attributes:
        per: ``"epoch"`` (each ``train_loss`` entry is the mean over an epoch's minibatches) or
            ``"step"`` (each entry is one minibatch's loss).
        train_loss: the training loss, one entry per epoch or step, in order.
        val_loss: the loss on validation data, measured after the epochs or steps listed in
            ``val_at`` (empty without validation data).
        val_accuracy: for classifiers, the validation accuracy at the same points.
        val_at: how many epochs or steps had run when each validation entry was measured.
        seconds: the wall time of the whole loop (``time.perf_counter``).
        nfe_per_step: the evaluations of the model's vector field in one training step, where
            the trainer counts them (flow matching: 1); None otherwise.
        nfe: where it varies, the evaluations of each training step, in order: ``fit_density``
            records ``model.nfe`` (a CNF's latest solve) after every step; empty otherwise.
    """

    per: str = "epoch"
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    val_at: list[int] = field(default_factory=list)
    seconds: float = 0.0
    nfe_per_step: int | None = None
    nfe: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        _validate.one_of(self.per, "per", ("epoch", "step"))

    def __len__(self) -> int:
        """The number of epochs or steps recorded."""
        return len(self.train_loss)

    def record(self, loss: float) -> None:
        """Append the training loss of one more epoch or step."""
        self.train_loss.append(float(loss))

    def record_validation(self, loss: float, accuracy: float | None = None) -> None:
        """Append a validation measurement taken now, after ``len(self)`` epochs or steps."""
        self.val_at.append(len(self))
        self.val_loss.append(float(loss))
        if accuracy is not None:
            self.val_accuracy.append(float(accuracy))
