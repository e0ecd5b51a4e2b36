"""A short fuzz campaign over every route (the long one: python -m tests.reliability.fuzz)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from hotline.settings import Settings
from tests.factories import make_settings
from tests.reliability.fuzz import campaign, running_app


def test_generated_bad_input_never_gets_a_5xx_or_a_traceback(settings: Settings, es: Any, unique_prefix: str,
                                                             tmp_path: Path) -> None:
    with running_app(make_settings(settings, tmp_path, index_prefix=unique_prefix)) as url:
        failures = campaign(url, 400)

    assert failures == []
