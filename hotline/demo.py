"""`hotline demo load`: a realistic Vietnamese demo data set, so a newcomer sees every page populated.

Tickets come from the project's own seed corpus (classifier/data/category_seed), spread over the last
30 days across Bình Dương's districts, with a planted surge of food-supply complaints in Dĩ An so the
spikes panel has something to show. Demo users get the password given on the command line.
"""
from __future__ import annotations

import asyncio
import json
import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Final

from elasticsearch import AsyncElasticsearch

from classifier.train import SEED_DIR
from dashboards import service as accounts
from dashboards.errors import UserExists
from dashboards.store import AuditStore, UserStore
from classifier.gazetteer import Gazetteer
from hotline.demo_isolation import load_isolation_demo
from intake.records import Channel, Status, Ticket, ticket_number
from intake.service import SlaPolicy, classify
from intake.store import TicketStore
from models import registry
import social_monitor
from social_monitor.records import RawPost
from social_monitor.service import SocialService

DEMO_USERS: Final = (("dtv.lan", "operator", "Nguyễn Thị Lan"), ("dtv.hung", "operator", "Trần Văn Hùng"),
                     ("tt.mai", "comms", "Lê Thị Mai"), ("ld.son", "leader", "Phạm Văn Sơn"),
                     ("qt.minh", "admin", "Võ Minh"))


def _seed_texts() -> list[str]:
    return [json.loads(line)["text"] for path in sorted(SEED_DIR.glob("*.jsonl"))
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _demo_posts(rng: random.Random, now: datetime) -> list[RawPost]:
    """The labelled rumour sample of social_monitor/data, as posts from the last two days."""
    sample = Path(social_monitor.__file__).resolve().parent / "data" / "claims_sample.jsonl"
    rows = [json.loads(line) for line in sample.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [RawPost(source=rng.choice(["zalo", "facebook", "tiktok"]), source_id=f"demo-{i}", text=row["text"],
                    published_at=now - timedelta(hours=rng.uniform(0, 48)), likes=rng.randrange(0, 500),
                    comments=rng.randrange(0, 120), shares=rng.randrange(0, 900)) for i, row in enumerate(rows)]


async def load_demo(es: AsyncElasticsearch, *, alias: Any, password: str, tickets: int = 400,
                    seed: int = 2021, social: SocialService | None = None) -> dict[str, int]:
    """Create demo users and tickets; safe to run twice (existing users are kept, tickets added)."""
    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    users, audit = UserStore(es, alias("users")), AuditStore(es, alias("audit"))
    created_users = 0
    for username, role, name in DEMO_USERS:
        try:
            await accounts.add_user(username, role, password, name, actor="demo", now=now, users=users, audit=audit)
            created_users += 1
        except UserExists:
            pass
    category, urgency = await asyncio.gather(asyncio.to_thread(registry.load, "category"),
                                             asyncio.to_thread(registry.load, "urgency"))
    gazetteer = Gazetteer.load()
    districts = [d.name for d in gazetteer.districts]
    texts = _seed_texts()
    surge = [t for t in texts if "gạo" in t or "gao" in t or "đồ ăn" in t] or texts
    store, sla = TicketStore(es, alias("tickets")), SlaPolicy()
    made = 0
    for i in range(tickets):
        recent_surge = i < tickets // 8
        text = rng.choice(surge if recent_surge else texts)
        age = timedelta(hours=rng.uniform(0, 48)) if recent_surge else timedelta(hours=rng.uniform(0, 30 * 24))
        created = now - age
        ticket_id = f"demo-{seed}-{i:05d}"
        result = await asyncio.to_thread(classify, text, category=category, urgency=urgency)
        place = gazetteer.locate(text)
        district = "Dĩ An" if recent_surge else (place.district if place else rng.choice(districts))
        status = Status.NEW if age < timedelta(days=1) else rng.choice(
            [Status.RESOLVED, Status.CLOSED, Status.IN_PROGRESS, Status.RESOLVED])
        ticket = Ticket(id=ticket_id, number=ticket_number(ticket_id, created), created_at=created,
                        updated_at=created, channel=rng.choice([Channel.CALL, Channel.CALL, Channel.SMS]),
                        caller=f"+849{rng.randrange(10**7, 10**8)}", text=text, messages=(text,),
                        category=result.category, category_score=result.category_score, urgency=result.urgency,
                        reasons=result.reasons, district=district, ward=place.ward if place else None,
                        sla_due_at=sla.due(created, result.urgency))
        ticket = replace(ticket.with_change("demo", "created", created, status=status),
                         assignee="dtv.lan" if status is not Status.NEW else None)
        made += await store.create(ticket)
    await store.refresh()
    posts = 0
    if social is not None:
        report = await social.ingest(_demo_posts(rng, now))
        posts = report.indexed
    extra = await load_isolation_demo(es, alias=alias, password=password, seed=seed)  # issue 17
    return {"users": created_users + extra["users"], "tickets": made + extra["tickets"], "posts": posts,
            "cases": extra["cases"]}


