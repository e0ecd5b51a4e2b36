"""What the comms team concluded about the rumour a caller is asking about (issue 11, item 6).

On an operator's ticket page: the claim the ticket already joined as a mention, or else the claim its text
matches best, when that claim has a verdict, with the correction, so the operator can answer in the same call.
Read through the social monitor's store and service that the composition root put on the app, as the comms
pages do (intake and social_monitor never import each other).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

from aiohttp import web

from hotline.kernel.errors import SearchUnavailable
from intake.records import Ticket
from social_monitor import keys as social_keys
from social_monitor.claims import FLAGGING_VERDICTS, VERDICT_LABELS, Claim
from social_monitor.errors import SocialError
from social_monitor.queries import build_claims_of_ticket

log = logging.getLogger(__name__)

MIN_SIMILARITY: Final = 0.5
"""Share of the shorter text's shingles the other has (SocialService.similar_claims) before a verdict is shown.

Measured with today's shingle overlap on the claim-matching sets (social_monitor/data/claims/, each post against
the first post of every claim): held-out test split, a post reaches 0.5 with its own claim 11 of 157 times, with
a close pair's 0 of 103, with any other claim 0 of 5,966; dev split 13/211, 8/136 (close pairs!), 0/10,265.
Precise against unrelated claims, blind to paraphrase and not safe on close pairs: the paraphrase scorer
(issue 11, item 2) replaces it behind `similar_claims`, and this threshold should then be its operating point.
"""
CANDIDATES: Final = 5


@dataclass(frozen=True, slots=True)
class ClaimAnswer:
    """A verdict to read out to the caller."""

    claim_text: str
    verdict: str
    verdict_label: str
    warning: bool
    correction_text: str | None
    correction_url: str | None
    mentioned: bool
    """True when the ticket itself is a mention of the claim, False when only its text resembles it."""


def _answer(claim: Claim, *, mentioned: bool) -> ClaimAnswer | None:
    if claim.verdict is None:
        return None
    return ClaimAnswer(claim.text, claim.verdict.value, VERDICT_LABELS[claim.verdict],
                       claim.verdict in FLAGGING_VERDICTS, claim.correction_text, claim.correction_url, mentioned)


async def find_claim_answer(request: web.Request, ticket: Ticket) -> ClaimAnswer | None:
    """The verdict on the claim this ticket reports, if the comms team has given one.

    The ticket page must open whatever happens to the claims: a failed lookup shows no verdict (and is logged).
    """
    text = ticket.composed_text() or ticket.text
    if social_keys.SERVICE not in request.app or not text.strip():
        return None
    try:
        return await _lookup(request, ticket, text)
    except (SocialError, SearchUnavailable) as err:
        log.warning("ticket %s: claims not looked up: %s", ticket.id, err.code)
        return None


async def _lookup(request: web.Request, ticket: Ticket, text: str) -> ClaimAnswer | None:
    joined, _ = await request.app[social_keys.STORE].search_claims(build_claims_of_ticket(ticket.id))
    if joined and (answer := _answer(joined[0][0], mentioned=True)) is not None:
        return answer
    for found in await request.app[social_keys.SERVICE].similar_claims(text, CANDIDATES,
                                                                       min_similarity=MIN_SIMILARITY):
        if (answer := _answer(found.claim, mentioned=False)) is not None:
            return answer
    return None
