"""Trained model artifacts (not data models): `<name>.v<N>/` folders, each with a MODEL_CARD.md.

Code that loads them lives in `models/registry.py`; code that trains them lives in `classifier/`.
"""
