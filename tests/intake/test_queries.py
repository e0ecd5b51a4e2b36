"""Pure query builders and parsers of issue 13: lookups, places in a search, the queue order (no I/O)."""
from __future__ import annotations

import pytest

from intake.places import PlaceIndex
from intake.queries import Sort, TicketSearch, build_ticket_search, query_fields
from intake.records import normalise_phone, parse_ticket_number

PLACES = PlaceIndex.load()


@pytest.mark.parametrize(("typed", "expected"), [
    ("0912345678", "+84912345678"), ("0912 345 678", "+84912345678"), ("0912.345.678", "+84912345678"),
    ("+84 912-345-678", "+84912345678"), ("84912345678", "+84912345678"), ("(028) 3822 1022", "+842838221022"),
    ("12345", None), ("0012345678", None), ("phong toa", None), ("2021-12-01", None),
])
def test_phone_numbers_in_any_usual_format_are_read_as_plus_84(typed: str, expected: str | None) -> None:
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize(("typed", "expected"), [
    ("261201-78b4c", "261201-78B4C"), (" 261201 - 78B4C ", "261201-78B4C"), ("261201-78B4", None),
    ("phong toa", None),
])
def test_visible_ticket_numbers_are_recognised(typed: str, expected: str | None) -> None:
    assert parse_ticket_number(typed) == expected


def test_a_number_is_a_lookup_not_a_text_search() -> None:
    body = build_ticket_search(TicketSearch(**query_fields("261201-78b4c", places=PLACES, allow_phone=False)))

    assert {"term": {"number": "261201-78B4C"}} in body["query"]["bool"]["filter"]
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]


def test_a_phone_is_looked_up_in_every_stored_form_only_for_roles_that_see_numbers() -> None:
    operator = query_fields("0912 345 678", places=PLACES, allow_phone=True)
    leader = query_fields("0912 345 678", places=PLACES, allow_phone=False)

    assert operator["callers"] == ("+84912345678", "0912345678", "84912345678")
    assert "callers" not in leader


def test_places_in_a_search_match_the_place_and_the_rest_needs_every_word() -> None:
    fields = query_fields("phong toa di an", places=PLACES, allow_phone=False)
    must = build_ticket_search(TicketSearch(**fields))["query"]["bool"]["must"]

    assert fields["q_folded"] == "phong toa" and fields["place_districts"] == ("Dĩ An",)
    assert must[0]["bool"]["must"] == [{"match": {"text_folded": {"query": "phong toa", "operator": "and"}}}]
    place = must[1]["bool"]["should"]
    assert {"match_phrase": {"text": "Dĩ An"}} in place and {"terms": {"district": ["Dĩ An"]}} in place


@pytest.mark.parametrize("typed", ["di an", "Di An", "DĨ AN", "tp dĩ an", "thanh pho di an"])
def test_the_district_picker_is_accent_and_case_insensitive(typed: str) -> None:
    assert PLACES.district(typed) == "Dĩ An"


def test_the_queue_scores_untaken_emergencies_first_then_sorts_by_sla() -> None:
    body = build_ticket_search(TicketSearch(sort=Sort.QUEUE, page=2, size=50))

    boosted = body["query"]["bool"]["should"][0]["constant_score"]["filter"]["bool"]
    assert {"term": {"urgency": "emergency"}} in boosted["filter"]
    assert boosted["must_not"] == [{"exists": {"field": "assignee"}}]
    assert body["sort"][0] == "_score" and "sla_due_at" in body["sort"][1]
    assert body["from"] == 50 and body["seq_no_primary_term"] is True


def test_the_ward_picker_is_accent_insensitive_and_follows_the_district() -> None:
    assert PLACES.ward("tan dong hiep") == "Tân Đông Hiệp"
    assert PLACES.ward("P. Dĩ An") == "Dĩ An"
    assert PLACES.ward("tan dong hiep", "Thủ Dầu Một") is None  # not a ward of that district
