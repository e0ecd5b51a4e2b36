"""Posts with an audio attachment are fetched and transcribed by the hotline's speech engine."""
from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from classifier.text import clean
from hotline.fetch import GuardedFetcher
from hotline.social_ctx import media_fetcher
from tests.factories import LOCAL_FETCH
from intake.speech import Transcript, WhisperEngine
from social_monitor.queries import PostSearch, build_post_search
from social_monitor.records import RawPost
from social_monitor.service import SocialService
from social_monitor.store import SocialStore
from tests.intake.test_speech import make_tiny_whisper


class CountingEngine:
    """The real tiny Whisper engine, remembering what it transcribed (to assert the wiring)."""

    def __init__(self, engine: WhisperEngine) -> None:
        self.name = engine.name
        self._engine = engine
        self.results: list[Transcript] = []

    def transcribe(self, audio: bytes, *, content_type: str = "audio/wav") -> Transcript:
        result = self._engine.transcribe(audio, content_type=content_type)
        self.results.append(result)
        return result


async def test_audio_attachment_is_fetched_transcribed_and_indexed(store: SocialStore, aiohttp_server: Any,
                                                                   tmp_path: Path) -> None:
    wav = tmp_path / "clip.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "uống nước chanh chữa covid"], check=True,
                   capture_output=True)
    requested: list[str] = []

    async def clip(request: web.Request) -> web.Response:
        requested.append(request.path)
        return web.Response(body=wav.read_bytes(), content_type="audio/wav")
    app = web.Application()
    app.router.add_get("/clip.wav", clip)
    server = await aiohttp_server(app)
    make_tiny_whisper(tmp_path / "whisper", languages=True)
    engine = CountingEngine(WhisperEngine(tmp_path / "whisper"))
    raw = RawPost.from_json({"id": "tiktok-1", "text": "nghe clip này đi mọi người",
                             "attachments": [{"type": "audio", "url": str(server.make_url("/clip.wav"))},
                                             {"type": "link", "url": "http://127.0.0.1:9/not-fetched"}]},
                            default_source="tiktok")

    fetcher = GuardedFetcher(LOCAL_FETCH)
    service = SocialService(store=store, speech=engine, fetch_media=media_fetcher(fetcher))
    report = await service.ingest([raw])
    await fetcher.close()
    await store.refresh()

    assert report.indexed == 1
    assert requested == ["/clip.wav"]  # the audio, not the link
    assert len(engine.results) == 1 and engine.results[0].duration_s and engine.results[0].duration_s > 0.5
    posts, total = await store.search_posts(build_post_search(PostSearch(size=5)))
    assert total == 1
    # The post keeps its words and gains the transcript (stored cleaned, so whitespace is collapsed).
    assert posts[0].text == clean("nghe clip này đi mọi người\n" + engine.results[0].text)


@pytest.mark.parametrize("status", [404, 500])
async def test_an_attachment_that_cannot_be_fetched_leaves_the_post_as_written(store: SocialStore,
                                                                               aiohttp_server: Any,
                                                                               tmp_path: Path, status: int) -> None:
    app = web.Application()
    app.router.add_get("/gone.mp4", lambda request: web.Response(status=status))
    server = await aiohttp_server(app)
    make_tiny_whisper(tmp_path / "whisper", languages=True)
    raw = RawPost.from_json({"id": "fb-1", "text": "video phong tỏa", "attachments": [
        {"type": "video", "url": str(server.make_url("/gone.mp4"))}]}, default_source="facebook")

    fetcher = GuardedFetcher(LOCAL_FETCH)
    service = SocialService(store=store, speech=WhisperEngine(tmp_path / "whisper"),
                            fetch_media=media_fetcher(fetcher))
    report = await service.ingest([raw])
    await fetcher.close()
    await store.refresh()

    assert report.indexed == 1
    posts, _ = await store.search_posts(build_post_search(PostSearch(size=5)))
    assert posts[0].text == "video phong tỏa"
