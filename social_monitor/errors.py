"""Errors of the social monitor; each derives from a kernel base, by which hotline/web.py maps it to HTTP."""
from __future__ import annotations

from hotline.kernel.errors import Conflict, HotlineError, Invalid, NotFound, SearchUnavailable


class SocialError(HotlineError):
    """Base of every social-monitor error."""


class InvalidPost(SocialError, Invalid):
    """A pushed or imported post is malformed (400)."""


class InvalidClaim(SocialError, Invalid):
    """A claim update, known claim or list query is malformed, or asks for an impossible transition (400)."""


class ClaimNotFound(SocialError, NotFound):
    """No claim with that id (404)."""


class ClaimConflict(SocialError, Conflict):
    """The claim changed since the client read it (409); the ingest worker pauses and retries."""


StoreUnavailable = SearchUnavailable
"""Elasticsearch did not answer; the caller retries later (the journal keeps the posts): the kernel's error."""


class DocumentRejected(SocialError):
    """Elasticsearch refused a document for its content (mapping, size): retrying the same data cannot help,
    so the ingest worker counts the attempt and parks the post after a few (issue 14, #4)."""


class SourceFailed(SocialError):
    """A source could not be read; the message is one line for the operators' source status page."""
