"""The shared kernel: mechanisms every domain stands on, written once (issue 15, item 1).

Home Assistant's integrations never import each other, yet all use its `helpers`; this package plays that
part here. It holds the durable outbox and its drain worker, the optimistic-concurrency `Version`, the history
record `Change`, the error bases the one error middleware maps by class, the request keys, the parsers of
query parameters and JSON bodies, and the local time zone.

It imports no domain and nothing else of `hotline` (setup.cfg's import contracts check it): if two domains
need the same mechanism, it moves down here; if it belongs to one domain, it stays there.
"""
