"""`hotline claims train-matcher` and `hotline claims evaluate`: the claim matcher's training and measurement.

The group is built by `make_claims_group(open_scratch)`; the composition root passes in how to open a service
on throw-away indices (this package does not import `hotline`).
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import click

from models import registry
from social_monitor import training
from social_monitor.claim_data import SPLITS, TRAINING_SPLITS, load_split, load_splits
from social_monitor.evaluation import evaluate
from social_monitor.pairs import MODEL_NAME
from social_monitor.service import SocialService

OpenScratch = Callable[[Any], AbstractAsyncContextManager[SocialService]]


def make_claims_group(open_scratch: OpenScratch) -> click.Group:
    """The `claims` group; `open_scratch(runtime)` yields a service on fresh indices, deleted afterwards."""

    @click.group("claims")
    def claims_group() -> None:
        """Claims of the social monitor: the paraphrase matcher (issue 11)."""

    @claims_group.command("train-matcher")
    @click.option("--split", "splits", type=click.Choice(TRAINING_SPLITS), multiple=True, default=("dev",),
                  show_default=True, help="Labelled split(s) to train on, repeatable (never a test split).")
    @click.option("--version", type=int, default=None, help="Version to write (default: the next one).")
    def train_matcher(splits: tuple[str, ...], version: int | None) -> None:
        """Train the pair scorer on social_monitor/data/claims/ and write models/claim_matcher.vN/."""
        split = "+".join(splits)
        claims, posts = load_splits(splits)
        started = time.perf_counter()
        next_version = version or (registry.versions(MODEL_NAME) or [0])[-1] + 1
        scorer, figures = training.train(claims, posts, version=next_version)
        grouped = training.evaluate_in_memory(scorer, claims, posts)
        metrics = {"split": split, "version": next_version, "claims": len(claims), "posts": len(posts), **figures,
                   "in_sample_grouping": grouped, "seconds": round(time.perf_counter() - started, 1)}
        path = registry.save(scorer.artifact, MODEL_NAME, metrics=metrics, card=training.card(metrics),
                             version=next_version)
        click.echo(json.dumps({"model": str(path), **metrics}, ensure_ascii=False))

    @claims_group.command("evaluate")
    @click.option("--split", type=click.Choice(SPLITS), required=True, help="dev, dev2 (training) or test, test2 (held out).")
    @click.option("--batch", type=int, default=1000, show_default=True,
                  help="Posts per ingest batch; 1 sends them one by one.")
    @click.pass_context
    def evaluate_command(ctx: click.Context, split: str, batch: int) -> None:
        """Register the split's known claims, ingest its posts on throw-away indices, print the figures."""
        if batch < 1:
            raise click.BadParameter("must be at least 1", param_hint="--batch")
        claims, posts = load_split(split)

        async def main() -> dict[str, Any]:
            async with open_scratch(ctx.obj) as service:
                if service.claim_matcher is None:
                    raise click.ClickException("no claim_matcher model: run `hotline claims train-matcher`")
                return await evaluate(service, claims, posts, batch=batch)

        result = asyncio.run(main())
        click.echo(json.dumps({"split": split, **result}, ensure_ascii=False))

    return claims_group
