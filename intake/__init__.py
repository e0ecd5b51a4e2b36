"""Hotline intake: calls, recordings, transcripts, SMS and web reports become tickets.

Owns the `tickets` index and the Ticket record. May import `classifier`; must not import
`social_monitor`, `dashboards` or `hotline`. aiohttp only in views.py, elasticsearch only in store.py.
"""
