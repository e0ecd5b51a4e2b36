"""The trained models the domains run, loaded once: the web app loads them at start-up, tests once a session."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.settings import Settings
from models import registry


@dataclass(frozen=True, slots=True)
class Models:
    """Fitted models, shared read-only by every app and worker of a process (`predict` has no side effects)."""

    category: Any
    urgency: Any
    misinformation: Any | None
    """None: no such model file; posts are grouped and matched but not scored."""
    misinformation_ref: str
    """The MISINFORMATION_MODEL it was loaded for: an app whose settings name another one loads its own."""
    claim_matcher: Any | None
    """None: no claim_matcher file; posts are grouped as near-copies only."""


def _optional(ref: str) -> Any | None:
    try:
        return registry.load(ref)
    except registry.ModelNotFound:
        return None


def load_models(settings: Settings) -> Models:
    """Every model the settings name (blocking: seconds; run it in a thread inside an event loop)."""
    return Models(category=registry.load("category"), urgency=registry.load("urgency"),
                  misinformation=_optional(settings.misinformation_model),
                  misinformation_ref=settings.misinformation_model, claim_matcher=_optional("claim_matcher"))
