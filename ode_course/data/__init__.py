"""Data sets generated in code or shipped with scikit-learn: nothing is downloaded at run time.

The package reads in four files, one kind of data each:

- ``classification.py``: labelled points X with classes y: the 8×8 digits
  (:func:`load_digits`, :func:`digits_per_class`, :class:`DigitsSplit`), :func:`xor`,
  :func:`two_moons` and :func:`concentric_circles` (a disc inside a ring, the set a 2-D
  Neural ODE cannot separate);
- ``densities.py``: unlabelled 2-D samples for density estimation (:func:`concentric_rings`,
  :func:`eight_gaussians`, :func:`checkerboard`, by name through ``TOY_DENSITIES`` and
  :func:`toy_data`), and :func:`standardise`, the map x ↦ (x − mean)/std with its
  log-determinant (:class:`Standardisation`);
- ``time_series.py``: irregularly sampled series: the spirals (``SPIRAL_ANGULAR_SPEED``,
  ``SPIRAL_RADIUS``, :func:`spiral`, :func:`irregular_spirals`, :class:`IrregularSeries`);
- ``batching.py``: series observed at different times, put on the union of their times with a
  mask of what was observed (:func:`collate_series`, :class:`IrregularBatch`).

Every generator takes a ``seed``: the same seed gives the same data on every machine.

Example:
    >>> X, y = two_moons(8, seed=0)
    >>> X.shape, toy_data("rings", 8).shape, len(irregular_spirals(8))
    ((8, 2), (8, 2), 8)
"""

from __future__ import annotations

from ode_course.data import batching, classification, densities, time_series
from ode_course.data.batching import IrregularBatch, collate_series
from ode_course.data.classification import (
    DigitsSplit,
    concentric_circles,
    digits_per_class,
    load_digits,
    two_moons,
    xor,
)
from ode_course.data.densities import (
    TOY_DENSITIES,
    Standardisation,
    checkerboard,
    concentric_rings,
    eight_gaussians,
    standardise,
    toy_data,
)
from ode_course.data.time_series import SPIRAL_ANGULAR_SPEED as SPIRAL_ANGULAR_SPEED
from ode_course.data.time_series import SPIRAL_RADIUS as SPIRAL_RADIUS
from ode_course.data.time_series import IrregularSeries, irregular_spirals, spiral

__all__ = sorted(
    {*classification.__all__, *densities.__all__, *time_series.__all__, *batching.__all__}
)
