"""Dashboards: the read side for operators, the communications team and leaders (pages and aggregations).

May read the records of `intake` and `social_monitor`; must not import `hotline`.
"""
