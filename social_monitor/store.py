"""Thin async I/O between the social monitor's records and its three aliases (plus reading tickets).

The only module of the package that imports elasticsearch.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import AsyncElasticsearch, ConflictError, NotFoundError
from elasticsearch.helpers import async_bulk, async_scan, async_streaming_bulk

from classifier.text import normalise
from hotline.kernel.records import Version
from social_monitor import queries
from social_monitor.claim_cache import SIZE as CACHE_SIZE
from social_monitor.claim_cache import ClaimCache
from social_monitor.claims import Claim, KnownClaim, is_claim_id
from social_monitor.curation import ClaimPair
from social_monitor.errors import ClaimConflict, ClaimNotFound, DocumentRejected, StoreUnavailable
from social_monitor.records import Post
from social_monitor.similarity import NUM_PERM


@dataclass(frozen=True, slots=True)
class TicketMention:
    """A hotline ticket reporting misinformation, as the claims need it (no caller data)."""

    id: str
    text: str
    created_at: datetime


MSEARCH_CHUNK: Final = 250
"""Searches per msearch request (a batch of 1000 posts is four requests, sent together)."""


@dataclass(frozen=True, slots=True)
class SimilarPost:
    """A grouped post found as a candidate member for a new post: what the matcher needs of it."""

    id: str
    claim_id: str
    text: str
    folded: str
    published_at: datetime | None
    """The time relative dates are read against (None: they stay unknown)."""

    @classmethod
    def from_source(cls, source: dict[str, Any]) -> SimilarPost:
        """From a hit of queries.build_similar_posts."""
        published = source.get("published_at")
        return cls(source["id"], source["claim_id"], source.get("text") or "", source.get("text_folded") or "",
                   datetime.fromisoformat(published) if published else None)


@asynccontextmanager
async def _reachable() -> AsyncIterator[None]:
    try:
        yield
    except (TransportConnectionError, ConnectionTimeout) as err:
        raise StoreUnavailable(str(err)) from err


class SocialStore:
    """Reads and writes posts, claims and known claims; claim writes are conditional on their version."""

    def __init__(self, es: AsyncElasticsearch, prefix: str, *, cache_size: int = CACHE_SIZE, posts: str | None = None,
                 claims: str | None = None) -> None:
        """`posts` and `claims` name other indices than the prefix's aliases (`hotline claims rebuild`)."""
        self._es = es
        self._cache: ClaimCache[Version] = ClaimCache(cache_size)
        self.posts, self.claims = posts or f"{prefix}posts", claims or f"{prefix}claims"
        self.registry, self.tickets = f"{prefix}known_claims", f"{prefix}tickets"
        self.pairs = f"{prefix}claim_pairs"

    # --- posts --------------------------------------------------------------------------------------
    async def index_posts(self, posts: Sequence[Post]) -> None:
        """Index (or overwrite, on a replay) a batch of posts in one bulk request."""
        def actions() -> Iterable[dict[str, Any]]:
            for post in posts:
                segmented, folded = _analysed(post.text, post.text_segmented, post.text_folded)
                yield {"_op_type": "index", "_index": self.posts, "_id": post.id,
                       "_source": post.as_doc(segmented=segmented, folded=folded)}
        async with _reachable():
            await async_bulk(self._es, actions(), chunk_size=500, raise_on_error=True)

    async def existing_posts(self, ids: Sequence[str]) -> set[str]:
        """Which of these post ids are indexed already (a journal entry replayed after a crash)."""
        if not ids:
            return set()
        async with _reachable():
            resp = await self._es.mget(index=self.posts, ids=list(ids), source=False)
        return {d["_id"] for d in resp["docs"] if d.get("found")}

    async def originals_of_hashes(self, hashes: Sequence[str]) -> dict[str, tuple[str, str]]:
        """content_hash -> (post id, claim id) of the first posts indexed with those hashes."""
        if not hashes:
            return {}
        async with _reachable():
            resp = await self._es.search(index=self.posts, **queries.build_posts_by_hash(hashes))
        return {h["_source"]["content_hash"]: (h["_source"]["id"], h["_source"]["claim_id"])
                for h in resp["hits"]["hits"] if h["_source"].get("claim_id")}

    async def similar_posts(self, folded: Sequence[str], size: int) -> list[list[SimilarPost]]:
        """For each folded text, the grouped posts most like it (one msearch for the whole batch)."""
        if not folded:
            return []
        searches: list[dict[str, Any]] = []
        for text in folded:
            searches += [{"index": self.posts}, queries.build_similar_posts(text, size)]

        async def one(chunk: list[dict[str, Any]]) -> Any:
            async with _reachable():
                return await self._es.msearch(searches=chunk)

        # Chunks in parallel: the node searches on all its cores, one msearch request runs on one of them.
        answers = await asyncio.gather(*(one(searches[start:start + 2 * MSEARCH_CHUNK])
                                         for start in range(0, len(searches), 2 * MSEARCH_CHUNK)))
        found: list[list[SimilarPost]] = []
        for resp in answers:
            for answer in resp["responses"]:
                if "error" in answer:
                    raise StoreUnavailable(f"similar posts not found: {answer['error']}")
                found.append([SimilarPost.from_source(h["_source"]) for h in answer["hits"]["hits"]])
        return found

    async def search_posts(self, body: dict[str, Any]) -> tuple[list[Post], int]:
        """Run a body from queries.py."""
        async with _reachable():
            resp = await self._es.search(index=self.posts, **body)
        return [Post.from_doc(h["_source"]) for h in resp["hits"]["hits"]], int(resp["hits"]["total"]["value"])

    async def posts_of_claim(self, claim_id: str, *, refresh: bool = True) -> list[Post]:
        """Every post of a claim, copies included, oldest first (a refresh first: reviewers act on what they saw)."""
        async with _reachable():
            if refresh:
                await self._es.indices.refresh(index=self.posts)
            found = [Post.from_doc(h["_source"]) async for h in async_scan(
                self._es, index=self.posts, query=queries.build_posts_of_claim(claim_id), size=1000)]
        return sorted(found, key=lambda p: (p.seen_at, p.id))

    async def get_posts(self, ids: Sequence[str]) -> list[Post]:
        """The posts with these ids that exist (real-time reads)."""
        found: list[Post] = []
        for start in range(0, len(ids), queries.CANDIDATES_PAGE):
            async with _reachable():
                resp = await self._es.mget(index=self.posts, ids=list(ids[start:start + queries.CANDIDATES_PAGE]))
            found += [Post.from_doc(d["_source"]) for d in resp["docs"] if d.get("found")]
        return found

    async def page_of_posts(self, after: list[Any] | None, size: int) -> tuple[list[Post], list[Any] | None]:
        """One page of every post in arrival order, and the cursor of the next page (None at the end)."""
        async with _reachable():
            resp = await self._es.search(index=self.posts, **queries.build_posts_in_order(after, size))
        hits = resp["hits"]["hits"]
        return [Post.from_doc(h["_source"]) for h in hits], (hits[-1]["sort"] if hits else None)

    async def count_posts(self) -> int:
        """How many posts (copies included) the index holds."""
        async with _reachable():
            return int((await self._es.count(index=self.posts))["count"])

    # --- claims -------------------------------------------------------------------------------------
    def _claim_doc(self, claim: Claim) -> dict[str, Any]:
        segmented, folded = _analysed(claim.text, claim.text_segmented, claim.text_folded)
        return claim.as_doc(segmented=segmented, folded=folded)

    async def get_claim(self, claim_id: str) -> tuple[Claim, Version]:
        """The claim and the version to pass back to `save_claim`."""
        if not is_claim_id(claim_id):
            raise ClaimNotFound("no such claim")
        try:
            async with _reachable():
                resp = await self._es.get(index=self.claims, id=claim_id)
        except NotFoundError as err:
            raise ClaimNotFound(f"no claim {claim_id}") from err
        claim, version = Claim.from_doc(resp["_source"], num_perm=NUM_PERM), Version(resp["_seq_no"], resp["_primary_term"])
        self._cache.put(claim, version)
        return claim, version

    async def candidate_claims(self, bands: Sequence[str]) -> list[tuple[Claim, Version]]:
        """Claims sharing an LSH band with `bands`, with their versions."""
        versions: dict[str, Version] = {}
        unique = list(dict.fromkeys(bands))
        for start in range(0, len(unique), queries.MAX_TERMS):  # a big batch has more keys than one query takes
            chunk, after = unique[start:start + queries.MAX_TERMS], None
            while True:
                async with _reachable():
                    resp = await self._es.search(index=self.claims, **queries.build_candidate_claims(chunk, after))
                hits = resp["hits"]["hits"]
                for h in hits:
                    versions[h["_id"]] = Version(h["_seq_no"], h["_primary_term"])
                if len(hits) < queries.CANDIDATES_PAGE:
                    break
                after = hits[-1]["sort"][0]
        found: dict[str, tuple[Claim, Version]] = {}
        for claim_id, version in versions.items():
            cached = self._cache.get(claim_id, version)
            if cached is not None:
                found[claim_id] = (cached, version)
        await self._read_claims([c for c in versions if c not in found], found)
        return [found[c] for c in versions if c in found]

    async def _read_claims(self, ids: Sequence[str], into: dict[str, tuple[Claim, Version]]) -> None:
        """Read claims by id (real-time: no refresh needed) into `into`, and remember them."""
        for start in range(0, len(ids), queries.CANDIDATES_PAGE):
            async with _reachable():
                resp = await self._es.mget(index=self.claims, ids=list(ids[start:start + queries.CANDIDATES_PAGE]))
            for doc in resp["docs"]:
                if doc.get("found"):
                    claim = Claim.from_doc(doc["_source"], num_perm=NUM_PERM)
                    version = Version(doc["_seq_no"], doc["_primary_term"])
                    self._cache.put(claim, version)
                    into[claim.id] = (claim, version)

    async def claims_by_id(self, ids: Sequence[str]) -> dict[str, tuple[Claim, Version]]:
        """Claims by id with their versions (from the cache when still current, else one mget)."""
        found: dict[str, tuple[Claim, Version]] = {}
        await self._read_claims(list(dict.fromkeys(ids)), found)
        return found

    async def claims_like(self, folded: str, size: int = 200, *, loose: bool = False) -> list[tuple[Claim, Version]]:
        """Claims whose text shares most words with `folded` (to be verified by the caller)."""
        async with _reachable():
            resp = await self._es.search(index=self.claims, **queries.build_claims_like(folded, size, loose=loose))
        return [(Claim.from_doc(h["_source"], num_perm=NUM_PERM), Version(h["_seq_no"], h["_primary_term"]))
                for h in resp["hits"]["hits"]]

    async def create_claim(self, claim: Claim) -> Version:
        """Index a new claim."""
        async with _reachable():
            resp = await self._es.create(index=self.claims, id=claim.id, document=self._claim_doc(claim))
        version = Version(resp["_seq_no"], resp["_primary_term"])
        self._cache.put(claim, version)
        return version

    async def save_claim(self, claim: Claim, version: Version) -> Version:
        """Overwrite the claim only if nobody changed it since `version` was read."""
        try:
            async with _reachable():
                resp = await self._es.index(index=self.claims, id=claim.id, document=self._claim_doc(claim),
                                            if_seq_no=version.seq_no, if_primary_term=version.primary_term)
        except ConflictError as err:
            self._cache.forget(claim.id)
            raise ClaimConflict(f"claim {claim.id} changed since version {version}") from err
        saved = Version(resp["_seq_no"], resp["_primary_term"])
        self._cache.put(claim, saved)
        return saved

    async def delete_claim(self, claim_id: str, version: Version) -> None:
        """Delete a claim (merged into another) only if nobody changed it since `version` was read."""
        self._cache.forget(claim_id)
        try:
            async with _reachable():
                await self._es.delete(index=self.claims, id=claim_id, if_seq_no=version.seq_no,
                                      if_primary_term=version.primary_term)
        except ConflictError as err:
            raise ClaimConflict(f"claim {claim_id} changed since version {version}") from err
        except NotFoundError as err:
            raise ClaimNotFound(f"no claim {claim_id}") from err

    async def scan_claims(self) -> AsyncIterator[tuple[Claim, Version]]:
        """Every claim, in no particular order."""
        async with _reachable():
            async for h in async_scan(self._es, index=self.claims, query={"query": {"match_all": {}}},
                                      size=500, seq_no_primary_term=True):
                yield Claim.from_doc(h["_source"], num_perm=NUM_PERM), Version(h["_seq_no"], h["_primary_term"])

    async def write_claims(self, created: Sequence[Claim], updated: Sequence[tuple[Claim, Version]]) -> list[str]:
        """Create and conditionally overwrite claims in one bulk request; returns the ids that hit a conflict."""
        actions: list[dict[str, Any]] = [{"_op_type": "create", "_index": self.claims, "_id": c.id,
                                          "_source": self._claim_doc(c)} for c in created]
        actions += [{"_op_type": "index", "_index": self.claims, "_id": c.id, "_source": self._claim_doc(c),
                     "if_seq_no": v.seq_no, "if_primary_term": v.primary_term} for c, v in updated]
        if not actions:
            return []
        written = {c.id: c for c in created} | {c.id: c for c, _ in updated}
        conflicts: list[dict[str, Any]] = []
        other: list[dict[str, Any]] = []
        async with _reachable():
            async for ok, item in async_streaming_bulk(self._es, actions, raise_on_error=False, chunk_size=500):
                result: dict[str, Any] = next(iter(item.values()))
                if ok:
                    self._cache.put(written[result["_id"]], Version(result["_seq_no"], result["_primary_term"]))
                    continue
                self._cache.forget(result["_id"])
                (conflicts if result.get("status") == 409 else other).append(result)
        if other:
            first = other[0]
            reason = (first.get("error") or {}).get("type") if isinstance(first.get("error"), dict) else None
            # A refusal of the content (4xx) is the data's fault; only overload or an outage is worth waiting for.
            if 400 <= int(first.get("status") or 500) < 500 and first.get("status") != 429:
                raise DocumentRejected(f"claim {first.get('_id')} refused by Elasticsearch ({first.get('status')} "
                                       f"{reason or 'error'})")
            raise StoreUnavailable(f"claims not written: {first.get('status')} {reason or 'error'}")
        return [f["_id"] for f in conflicts]

    async def search_claims(self, body: dict[str, Any]) -> tuple[list[tuple[Claim, Version]], int]:
        """Run a body from queries.py."""
        async with _reachable():
            resp = await self._es.search(index=self.claims, seq_no_primary_term=True, **body)
        found = [(Claim.from_doc(h["_source"], num_perm=NUM_PERM), Version(h["_seq_no"], h["_primary_term"]))
                 for h in resp["hits"]["hits"]]
        return found, int(resp["hits"]["total"]["value"])

    # --- known claims -------------------------------------------------------------------------------
    async def add_known_claim(self, known: KnownClaim) -> None:
        """Record a checked claim."""
        forms = normalise(known.text)
        doc = {**known.as_json(), "text_segmented": forms.segmented, "text_folded": forms.folded}
        async with _reachable():
            await self._es.index(index=self.registry, id=known.id, document=doc)
            await self._es.indices.refresh(index=self.registry)  # the next ingest must match against it

    async def known_claims(self, body: dict[str, Any] | None = None) -> tuple[list[KnownClaim], int]:
        """The registry (or one page of it)."""
        async with _reachable():
            resp = await self._es.search(index=self.registry, **(body or queries.build_all_known_claims()))
        return [KnownClaim.from_doc(h["_source"]) for h in resp["hits"]["hits"]], int(resp["hits"]["total"]["value"])

    async def known_claim(self, known_id: str) -> KnownClaim | None:
        """One entry of the registry, or None."""
        try:
            async with _reachable():
                resp = await self._es.get(index=self.registry, id=known_id)
        except NotFoundError:
            return None
        return KnownClaim.from_doc(resp["_source"])

    # --- training pairs from people's corrections ------------------------------------------------------
    async def add_pairs(self, pairs: Sequence[ClaimPair]) -> None:
        """Store labelled pairs (ids are the pair's posts and label, so a repeated correction adds nothing)."""
        if not pairs:
            return
        async with _reachable():
            await async_bulk(self._es, ({"_op_type": "index", "_index": self.pairs, "_id": p.id,
                                         "_source": p.as_doc()} for p in pairs), refresh="wait_for")

    async def scan_pairs(self) -> AsyncIterator[ClaimPair]:
        """Every stored pair, oldest first."""
        async with _reachable():
            async for h in async_scan(self._es, index=self.pairs, query={"query": {"match_all": {}},
                                                                          "sort": [{"at": "asc"}]},
                                      preserve_order=True, size=1000):
                yield ClaimPair.from_doc(h["_source"])

    # --- tickets (read only; owned by intake) --------------------------------------------------------
    async def misinformation_tickets(self, since: datetime | None) -> list[TicketMention]:
        """Tickets of category misinformation_report created after `since`, oldest first."""
        try:
            async with _reachable():
                resp = await self._es.search(index=self.tickets, **queries.build_misinformation_tickets(since))
        except NotFoundError:
            return []  # no tickets index yet: nothing reported
        return [TicketMention(h["_source"]["id"], h["_source"].get("text") or "",
                              datetime.fromisoformat(h["_source"]["created_at"])) for h in resp["hits"]["hits"]]

    async def refresh(self) -> None:
        """Make recent writes searchable (the ingest worker between batches, tests and the CLI)."""
        async with _reachable():
            await self._es.indices.refresh(index=f"{self.posts},{self.claims},{self.registry}")


def _analysed(text: str, segmented: str | None, folded: str | None) -> tuple[str, str]:
    """The segmented and folded forms of a record's text: the ones it carries, or computed now."""
    if segmented is None or folded is None:
        forms = normalise(text)
        return forms.segmented, forms.folded
    return segmented, folded
