"""Social monitor: collects posts, groups repeats of a claim, matches known false claims, flags for review.

Owns the `posts`, `claims`, `known_claims` and `claim_pairs` indices and the post journal
(`DATA_DIR/social.sqlite3`).
May import `classifier`; must not import `intake`, `dashboards` or `hotline` (hotline/social_ctx.py wires it).
aiohttp only in views.py and collectors.py (HTTP clients), elasticsearch only in store.py.
"""
