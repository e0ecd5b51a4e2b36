"""Social monitor: collects posts, groups repeats of a claim, matches known false claims, flags for review.

Owns the `posts` index. May import `classifier`; must not import `intake`, `dashboards` or `hotline`.
aiohttp only in views.py, elasticsearch only in store.py.
"""
