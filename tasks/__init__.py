"""Demos that run on either implementation: text (character-level generation) and series (forecasting)."""
