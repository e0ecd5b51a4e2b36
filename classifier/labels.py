"""The labels the hotline's models predict: defined once, for the models, their training and every domain
that validates or filters by them (intake's ticket API, issue 15)."""
from __future__ import annotations

from typing import Final

CATEGORY_LABELS: Final = ("medical", "testing", "vaccination", "quarantine", "food_supply", "social_support",
                          "travel_permit", "public_order", "prices", "misinformation_report", "other")
URGENCY_LABELS: Final = ("emergency", "high", "normal")
