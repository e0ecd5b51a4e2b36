"""Vietnamese language resources and the classifiers (category, urgency, misinformation).

Owns text normalisation and the province gazetteer (`classifier.gazetteer`), both used by every domain
(intake locates callers, the social monitor compares the places that claims name). Must not import aiohttp,
elasticsearch or any other domain package.
"""
