"""The trained models an app uses, loaded once and handed to `create_app` (tests start hundreds of apps).

registry.load already reads each file once per process; this holder lets a caller load them before any app
starts (a session fixture, a process serving several apps) so that the apps' start-ups only wrap them.
Fitted models are read-only (the scikit-learn contract), so several apps may share one holder.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Final

from aiohttp import web

from hotline.settings import Settings
from intake.service import Classifier
from models import registry

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoadedModels:
    """Fitted artifacts as registry.load returns them; None where no model is trained (the app then runs
    without it, as when it loads them itself)."""

    category: Classifier
    urgency: Classifier
    misinformation: Any | None
    misinformation_ref: str
    """The reference `misinformation` was loaded for; an app whose settings name another one loads its own."""
    claim_matcher: Any | None


MODELS: Final = web.AppKey("loaded_models", LoadedModels)


def load_optional(ref: str, missing: str) -> Any | None:
    """registry.load, or None (logged with `missing`) if no such model is trained."""
    try:
        return registry.load(ref)
    except registry.ModelNotFound:
        log.error(missing)
        return None


def misinformation_missing(ref: str) -> str:
    return f"no misinformation model {ref!r}: posts are grouped and matched but not scored"


CLAIM_MATCHER_MISSING: Final = ("no claim_matcher model: posts are grouped as near-copies only (train it with "
                                "`hotline claims train-matcher`)")


async def load_models(settings: Settings) -> LoadedModels:
    """Every model an app uses, each in a thread."""
    ref = settings.misinformation_model
    category, urgency, misinformation, claim_matcher = await asyncio.gather(
        asyncio.to_thread(registry.load, "category"), asyncio.to_thread(registry.load, "urgency"),
        asyncio.to_thread(load_optional, ref, misinformation_missing(ref)),
        asyncio.to_thread(load_optional, "claim_matcher", CLAIM_MATCHER_MISSING))
    return LoadedModels(category=category, urgency=urgency, misinformation=misinformation, misinformation_ref=ref,
                        claim_matcher=claim_matcher)
