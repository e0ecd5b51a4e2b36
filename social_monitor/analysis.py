"""What a batch of posts' text gives without the index: text forms, content hashes, scores, MinHash signatures.

This is the CPU-bound half of ingest (pyvi segmentation, the misinformation model, MinHash: ~0.5 ms a post).
In one process it shares the interpreter lock with everything else the ingest does, so on a busy stream it
can run in worker processes instead (`ProcessAnalyser`, set up by the composition root); the result is the
same either way.
"""
from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from classifier.text import NormalisedText, normalise
from social_monitor.records import RawPost, content_hash
from social_monitor.scoring import Score, Scorer
from social_monitor.similarity import Signature, signature


@dataclass(frozen=True, slots=True)
class TextAnalysis:
    """One entry per post, in order."""

    forms: list[NormalisedText]
    hashes: list[str]
    scores: list[Score | None]
    """Only the first post of each content hash is scored (the others are copies: their score is not used)."""
    signatures: list[Signature | None]


def analyse(posts: Sequence[RawPost], scorer: Scorer | None) -> TextAnalysis:
    """Normalise, hash, score and sign a batch (blocking)."""
    forms = [normalise(p.text) for p in posts]
    hashes = [content_hash(f.folded) for f in forms]
    first: dict[str, int] = {}
    for i, digest in enumerate(hashes):
        first.setdefault(digest, i)
    scores: list[Score | None] = [None] * len(posts)
    if scorer is not None and first:
        for i, score in zip(first.values(), scorer.score([posts[i] for i in first.values()])):
            scores[i] = score
    return TextAnalysis(forms, hashes, scores, [signature(f.folded) for f in forms])


class Analyser(Protocol):
    """Runs `analyse` somewhere: a thread (ThreadAnalyser) or worker processes (ProcessAnalyser)."""

    async def __call__(self, posts: Sequence[RawPost]) -> TextAnalysis: ...

    def close(self) -> None: ...


class ThreadAnalyser:
    """Runs `analyse` in a thread of this process (the default: no extra memory, no start-up)."""

    def __init__(self, scorer: Scorer | None) -> None:
        self._scorer = scorer

    async def __call__(self, posts: Sequence[RawPost]) -> TextAnalysis:
        return await asyncio.to_thread(analyse, list(posts), self._scorer)

    def close(self) -> None:
        """Nothing to release."""


_worker_scorer: Scorer | None = None


def _start_worker(scorer: Scorer | None) -> None:
    global _worker_scorer
    _worker_scorer = scorer
    normalise("khởi động")  # load pyvi's model now, not with the first batch


def _analyse_in_worker(posts: list[RawPost]) -> TextAnalysis:
    return analyse(posts, _worker_scorer)


class ProcessAnalyser:
    """Runs `analyse` in worker processes, each with its own copy of the scorer (sent once, at start).

    Each worker costs the memory of pyvi and the model (~250 MB) and a few seconds to start. Workers are
    spawned, not forked: the app has threads (asyncio's, the Elasticsearch client's), and forking a process
    with threads can copy a held lock into the child.
    """

    def __init__(self, scorer: Scorer | None, processes: int = 1) -> None:
        self._pool = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_start_worker, initargs=(scorer,))

    async def __call__(self, posts: Sequence[RawPost]) -> TextAnalysis:
        loop = asyncio.get_running_loop()
        result: TextAnalysis = await loop.run_in_executor(self._pool, _analyse_in_worker, list(posts))
        return result

    def close(self) -> None:
        """Stop the workers."""
        self._pool.shutdown(wait=True, cancel_futures=True)
