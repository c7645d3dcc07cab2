"""Helpers of the ``canteen_attendance`` entry (features, baselines, evaluation, plots).

The public API is ``models.canteen_attendance``; these modules keep it small.
"""
