"""How sure is the prediction on the target? Conformal prediction and calibration under shift.

* :class:`WeightedConformalRegressor` — prediction intervals;
* :class:`WeightedConformalClassifier` — prediction sets (LAC / APS);
* :class:`ShiftCalibratedClassifier` — probabilities calibrated for the target.

All three hold out labelled source rows for calibration and weigh them by how
target-like they are (density ratio under covariate shift, class-prior ratio
under label shift). Names and shapes follow MAPIE's v1 API.
"""

from ._calibration import ShiftCalibratedClassifier
from ._conformal import WeightedConformalClassifier, WeightedConformalRegressor

__all__ = [
    "ShiftCalibratedClassifier",
    "WeightedConformalClassifier",
    "WeightedConformalRegressor",
]
