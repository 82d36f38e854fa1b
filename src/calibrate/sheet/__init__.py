"""What a sheet is made of: criteria and bands, activity features and their kinds.

Importing this package registers the built-in activity feature kinds
(:mod:`calibrate.sheet.kinds`), so every :class:`~calibrate.sheet.feature.ActivityFeature`
can name one.
"""

from . import kinds  # noqa: F401  (registers the built-in kinds)
