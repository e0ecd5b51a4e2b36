"""The composition root's choice of where post analysis runs."""
from __future__ import annotations

import asyncio

from hotline.settings import Settings
from hotline.social_ctx import make_analyser
from social_monitor.analysis import ProcessAnalyser, ThreadAnalyser
from social_monitor.records import RawPost


async def test_analysis_runs_in_worker_processes_only_when_configured() -> None:
    assert isinstance(make_analyser(Settings.from_env({}), None), ThreadAnalyser)
    analyser = make_analyser(Settings.from_env({"SOCIAL_ANALYSIS_PROCESSES": "1"}), None)
    try:
        assert isinstance(analyser, ProcessAnalyser)
        result = await asyncio.wait_for(analyser([RawPost(source="rss", source_id="1", text="Mất điện ở Dĩ An")]), 120)
    finally:
        analyser.close()

    assert result.forms[0].folded.startswith("mat dien") and result.scores == [None]
