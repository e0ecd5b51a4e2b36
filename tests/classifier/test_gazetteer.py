"""Behaviour of the Bình Dương gazetteer: the units file, and `locate` over the texts citizens really send."""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.text import fold
from classifier.gazetteer import ELSEWHERE_NAMES, RISKY_NAMES, UNACCENTED_RISKY_NAMES, Gazetteer, Place

# No example database in the source tree (pytest runs with -p no:cacheprovider); a failure prints its example.
PROPERTIES = settings(max_examples=300, deadline=None, database=None)

UNITS_FILE = Path(__file__).parents[2] / "classifier" / "data" / "binh_duong_units.json"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    """The bundled gazetteer, loaded the way the app loads it."""
    return Gazetteer.load()


def make_units(**overrides: object) -> dict[str, object]:
    """A minimal valid units file; keyword arguments replace top-level keys."""
    units: dict[str, object] = {
        "province": "Bình Dương",
        "as_of": "2024",
        "districts": [{"name": "Dĩ An", "kind": "thành phố", "wards": [
            {"name": "Dĩ An", "kind": "phường"}, {"name": "An Bình", "kind": "phường"}]}],
    }
    units.update(overrides)
    return units


def located(gazetteer: Gazetteer, text: str) -> tuple[str, str | None] | None:
    place = gazetteer.locate(text)
    return None if place is None else (place.district, place.ward)


# --- the units file -----------------------------------------------------------------------------------------

def test_units_file_has_the_nine_districts_and_91_communes_of_2024(gazetteer: Gazetteer) -> None:
    assert [district.name for district in gazetteer.districts] == [
        "Thủ Dầu Một", "Dĩ An", "Thuận An", "Tân Uyên", "Bến Cát", "Bàu Bàng", "Bắc Tân Uyên", "Dầu Tiếng",
        "Phú Giáo"]
    kinds = Counter(ward.kind for district in gazetteer.districts for ward in district.wards)
    assert kinds == {"phường": 47, "thị trấn": 5, "xã": 39}
    assert Counter(district.kind for district in gazetteer.districts) == {"thành phố": 5, "huyện": 4}


def test_every_district_has_wards_with_names_unique_within_it(gazetteer: Gazetteer) -> None:
    for district in gazetteer.districts:
        assert district.wards, district.name
        folded = [fold(ward.name).lower() for ward in district.wards]
        assert len(set(folded)) == len(folded), district.name
        assert {ward.district for ward in district.wards} == {district.name}


def test_units_file_is_canonical_unicode() -> None:
    text = UNITS_FILE.read_text(encoding="utf-8")
    assert unicodedata.normalize("NFC", text) == text
    for tone_after_vowel in ("oà", "oá", "oả", "oã", "oạ", "uỳ", "uý", "uỷ", "uỹ", "uỵ"):
        assert tone_after_vowel not in text.lower()  # classic placement, as classifier.text.clean writes


@pytest.mark.parametrize("name", sorted({*RISKY_NAMES, *ELSEWHERE_NAMES, *UNACCENTED_RISKY_NAMES}))
def test_risky_names_are_unit_names(gazetteer: Gazetteer, name: str) -> None:
    names = {district.name for district in gazetteer.districts} | {
        ward.name for district in gazetteer.districts for ward in district.wards}
    assert name in names


def test_landmark_wards_belong_to_their_district(gazetteer: Gazetteer) -> None:
    for district in gazetteer.districts:
        for landmark in district.landmarks:
            assert landmark.district == district.name
            assert landmark.ward is None or landmark.ward in {ward.name for ward in district.wards}


@pytest.mark.parametrize(("units", "message"), [
    (make_units(districts=[]), "no districts"),
    (make_units(districts=[{"name": "Dĩ An", "kind": "thành phố", "wards": []}]), "no wards"),
    (make_units(districts=[{"name": "Dĩ An", "kind": "quận", "wards": [
        {"name": "An Bình", "kind": "phường"}]}]), "district kind"),
    (make_units(districts=[{"name": "Dĩ An", "kind": "thành phố", "wards": [
        {"name": "An Bình", "kind": "phường"}, {"name": "An Binh", "kind": "phường"}]}]), "repeat"),
    (make_units(districts=[{"name": "Dĩ An", "kind": "thành phố", "wards": [
        {"name": "P", "kind": "phường"}]}]), "both"),
    (make_units(province=None), "province"),
    ([], "object"),
])
def test_malformed_units_files_are_refused_with_the_reason(units: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Gazetteer.from_json(units)


def test_load_reads_a_units_file_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "units.json"
    path.write_text(json.dumps(make_units()), encoding="utf-8")
    assert located(Gazetteer.load(path), "phường An Bình, Dĩ An") == ("Dĩ An", "An Bình")


# --- every unit can be found --------------------------------------------------------------------------------

def _every_ward() -> list[tuple[str, str, str, str]]:
    return [(district.kind, district.name, ward.kind, ward.name)
            for district in Gazetteer.load().districts for ward in district.wards]


@pytest.mark.parametrize(("district_kind", "district", "ward_kind", "ward"), _every_ward())
def test_every_ward_is_found_with_its_prefix_and_district(
        gazetteer: Gazetteer, district_kind: str, district: str, ward_kind: str, ward: str) -> None:
    text = f"Nhà tôi ở {ward_kind} {ward}, {district_kind} {district}."
    assert located(gazetteer, text) == (district, ward)
    assert located(gazetteer, fold(text)) == (district, ward)
    assert located(gazetteer, fold(text).lower().replace(",", "").replace(".", "")) == (district, ward)


@pytest.mark.parametrize(("alias", "district"), [
    ("TDM", "Thủ Dầu Một"), ("tp tdm", "Thủ Dầu Một"), ("Thủ Dầu 1", "Thủ Dầu Một"),
    ("TX Thủ Dầu Một", "Thủ Dầu Một"), ("TX Dĩ An", "Dĩ An"), ("thị xã Thuận An", "Thuận An"),
    ("tx Bến Cát", "Bến Cát"), ("Bầu Bàng", "Bàu Bàng"),
])
def test_districts_are_found_by_their_aliases(gazetteer: Gazetteer, alias: str, district: str) -> None:
    assert located(gazetteer, f"{alias} có chỗ nào tiêm vắc xin không") == (district, None)


@pytest.mark.parametrize("district", [district.name for district in Gazetteer.load().districts])
def test_every_district_is_found_by_name(gazetteer: Gazetteer, district: str) -> None:
    assert located(gazetteer, f"{district} có chỗ nào tiêm vắc xin không") == (district, None)
    assert located(gazetteer, fold(f"Tôi ở {district} muốn đăng ký tiêm")) == (district, None)


# --- real-looking messages ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # typed with diacritics
    ("Nhà tôi ở phường Tân Bình, TP Dĩ An, có 3 người sốt cao", ("Dĩ An", "Tân Bình")),
    ("Xã Tân Bình, huyện Bắc Tân Uyên cần hỗ trợ gạo cho bà con", ("Bắc Tân Uyên", "Tân Bình")),
    ("Khu phố 2, phường An Bình, thành phố Dĩ An bị phong tỏa", ("Dĩ An", "An Bình")),
    ("Ấp 3 xã An Bình huyện Phú Giáo chưa được phát thực phẩm", ("Phú Giáo", "An Bình")),
    ("Phòng trọ ở Thuận Giao bị phong tỏa 3 ngày nay không có gì ăn", ("Thuận An", "Thuận Giao")),
    ("Công nhân ở phường Bình Chuẩn, Thuận An cần test nhanh", ("Thuận An", "Bình Chuẩn")),
    ("Tôi ở Chánh Phú Hòa, Bến Cát", ("Bến Cát", "Chánh Phú Hòa")),
    ("Chánh Phú Hòa có ca F0 mới", ("Bến Cát", "Chánh Phú Hòa")),
    ("Tổ 5 khu phố 4 phường Uyên Hưng thị xã Tân Uyên", ("Tân Uyên", "Uyên Hưng")),
    ("Thị trấn Dầu Tiếng mất điện từ sáng", ("Dầu Tiếng", "Dầu Tiếng")),
    ("Huyện Dầu Tiếng có mấy điểm tiêm", ("Dầu Tiếng", None)),
    ("Phường Dĩ An có chốt kiểm soát ở đâu", ("Dĩ An", "Dĩ An")),
    ("Huyện Bắc Tân Uyên có điểm xét nghiệm không", ("Bắc Tân Uyên", None)),
    ("Xe cấp cứu ở KCN Nam Tân Uyên", ("Tân Uyên", None)),
    ("Công nhân KCN Mỹ Phước 3 bị sốt", ("Bến Cát", "Mỹ Phước")),
    ("Chợ Lái Thiêu có mở cửa lại chưa", ("Thuận An", "Lái Thiêu")),
    ("Xã Cây Trường II, huyện Bàu Bàng", ("Bàu Bàng", "Cây Trường II")),
    ("phường Hoà Phú, Thủ Dầu Một", ("Thủ Dầu Một", "Hòa Phú")),  # the other tone placement
    ("Dỉ An có bị phong tỏa không ạ", ("Dĩ An", None)),  # hỏi for ngã, as southern writers type
    ("Chợ Thủ Dầu Một đóng cửa", ("Thủ Dầu Một", None)),
    ("Chúng tôi ở Dĩ An, Bình Dương", ("Dĩ An", None)),
    ("Nhà tôi ở thuan giao, có F0", ("Thuận An", "Thuận Giao")),  # typed bare, but after "ở"
    ("Cho mình xin tt Dĩ An", ("Dĩ An", None)),  # "tt" is "thông tin" here: Dĩ An was never a thị trấn
    # without diacritics
    ("nha toi o phuong tan binh tp di an co nguoi bi sot", ("Dĩ An", "Tân Bình")),
    ("xa tan dinh huyen bac tan uyen", ("Bắc Tân Uyên", "Tân Định")),
    ("p tan dinh ben cat", ("Bến Cát", "Tân Định")),
    ("toi o thu dau mot can di xet nghiem", ("Thủ Dầu Một", None)),
    ("phuong hiep thanh thu dau mot", ("Thủ Dầu Một", "Hiệp Thành")),
    ("xa thanh an dau tieng", ("Dầu Tiếng", "Thanh An")),
    ("an thai phu giao co ca nhiem", ("Phú Giáo", "An Thái")),
    ("di an binh duong co phong toa khong", ("Dĩ An", None)),
    ("Khu pho 1 Phuong Lai Thieu, Thuan An, Binh Duong", ("Thuận An", "Lái Thiêu")),
    # teencode and chat
    ("e o p.binh hoa tp.thuan an, nha co f0 ma ko ai xuong", ("Thuận An", "Bình Hòa")),
    ("mn ơi f.An Phú, Thuận An có bị phong tỏa ko", ("Thuận An", "An Phú")),
    ("TDM có chỗ nào test nhanh ko ạ", ("Thủ Dầu Một", None)),
    ("ở tx Tân Uyên có ai bít chỗ tiêm ko", ("Tân Uyên", None)),
    ("kp3 P. Tân Đông Hiệp cần hỗ trợ", ("Dĩ An", "Tân Đông Hiệp")),
    ("Bầu Bàng có ai bít chỗ test k", ("Bàu Bàng", None)),
    ("nhà e ở thủ dầu 1 nè", ("Thủ Dầu Một", None)),
    # speech transcripts: no punctuation, numbers in words
    ("alo tổng đài cho em hỏi em ở phường tân đông hiệp thành phố dĩ an có ca dương tính",
     ("Dĩ An", "Tân Đông Hiệp")),
    ("dạ nhà tôi ở xã an bình huyện phú giáo mà không có ai đến lấy mẫu", ("Phú Giáo", "An Bình")),
    ("em ở thủ dầu một phường phú hòa đang cách ly tại nhà", ("Thủ Dầu Một", "Phú Hòa")),
    ("ở xã cây trường hai huyện bàu bàng", ("Bàu Bàng", "Cây Trường II")),
    ("alo ở thuận giao thuận an đó chị ơi", ("Thuận An", "Thuận Giao")),
    ("dạ ở ấp ba xã thanh tuyền dầu tiếng", ("Dầu Tiếng", "Thanh Tuyền")),
])
def test_locate_finds_the_district_and_ward_of_real_messages(
        gazetteer: Gazetteer, text: str, expected: tuple[str, str | None]) -> None:
    assert located(gazetteer, text) == expected


@pytest.mark.parametrize("text", [
    "",
    "   ",
    "Xin chào tổng đài, cho tôi hỏi về lịch tiêm mũi 2",
    "khu phố 3",
    "kp 3 tổ 12",
    "phường 3",  # numbered wards are Ho Chi Minh City's, not ours
    # ordinary words spelled like a unit
    "Mong cho mọi người được an bình qua mùa dịch",
    "Chúc cả nhà bình an",
    "Tôi đi ăn cơm rồi mới về",
    "di an com chua ban",
    "Cái bình hoa bị vỡ",
    "Em muốn hỏi nghĩa của chữ F1 là gì",
    "hoi nghia cua tu f1 la gi",
    "Đặt cược bóng đá qua mạng là phạm pháp",
    "dat cuoc bong da bi bat",
    "Hình minh họa",
    "Nhiệt liệt tán thành",
    "toi tan thanh y kien nay",
    "Quyết định thành lập tổ công tác",
    "Giữ ổn định an ninh trật tự",
    "Doanh nghiệp tân lập được miễn phí",
    "vinh hoa phu quy",
    "Tin đồn sóng thần sắp đổ bộ",
    "Chị Minh Hòa gọi lại giúp em",
    "Bộ trưởng Lê Vĩnh Tân cho biết",
    "Hôm nay thuan giao có mưa không",  # bare words in a text typed with diacritics need a place word
    "Công an Long An đang điều tra",
    "cong an thanh pho ha giang",
    "Giáo viên không dùng giáo án điện tử",
    "giao vien khong dung giao an dien tu",
    "lop chat luong cao nhung lai thieu thiet bi",
    "Gửi anh Long\nNguyên nhân là do mất điện",  # a name never runs across a line break
    "Địa chỉ ở huyện Châu Phú, An Giang",  # nor across punctuation
    # places elsewhere with the names of our units
    "Tôi ở quận Tân Bình, TP.HCM",
    "Phú Mỹ Hưng quận 7",
    "Quê tôi ở tỉnh Phú Thọ",
    "Cửa hàng trên đường Bạch Đằng",
    "huyện Tân Thành, Bà Rịa - Vũng Tàu",
    "thành phố Tân An, Long An",
    "Kẹt xe ở chợ Tân Định",
    "Quê tôi ở Phú Thọ",  # "ở" is not enough for a name better known elsewhere
    "trú tại phường Tân Định, Quận 1, TP. Hồ Chí Minh",
    "P. Phú Mỹ, Q7",
    "nhiều hộ dân xã Tân Lập, huyện Yên Mỹ",
    "thị trấn Phú Mỹ huyện Tân Thành",
    "phường Tân Thành, quận Dương Kinh",
    # a place whose district the data does not assert is not mistaken for a shorter name
    "Công ty em ở KCN VSIP II",
    "tt tiêm chủng",
])
def test_locate_finds_nothing_in_texts_that_name_no_unit(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.locate(text) is None


# --- ambiguity ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    # the kind of unit settles a repeated name: phường in one district, xã or thị trấn in the other
    ("phường Tân Bình", ("Dĩ An", "Tân Bình")),
    ("thị trấn Tân Bình", ("Bắc Tân Uyên", "Tân Bình")),
    ("xã Tân Bình", ("Bắc Tân Uyên", "Tân Bình")),  # it was a xã until 2021, and callers still say so
    ("phường Tân Định", ("Bến Cát", "Tân Định")),
    ("xã Tân Định", ("Bắc Tân Uyên", "Tân Định")),
    ("phường Tân Hiệp", ("Tân Uyên", "Tân Hiệp")),
    ("xã Tân Hiệp", ("Phú Giáo", "Tân Hiệp")),
    ("p An Bình", ("Dĩ An", "An Bình")),
    # a named district settles it, whatever the prefix says
    ("xã Tân Bình, Dĩ An", ("Dĩ An", "Tân Bình")),
    ("Tân Bình Dĩ An", ("Dĩ An", "Tân Bình")),
    ("tan binh di an", ("Dĩ An", "Tân Bình")),
    ("Dĩ An, Tân Bình", ("Dĩ An", "Tân Bình")),
    ("An Bình thuộc Phú Giáo", ("Phú Giáo", "An Bình")),
    # so does a landmark
    ("Tôi ở An Bình gần ga Sóng Thần", ("Dĩ An", "An Bình")),
    # a name better known elsewhere counts after its prefix
    ("phường Phú Thọ", ("Thủ Dầu Một", "Phú Thọ")),
    ("phường Tân Định, thị xã Bến Cát, tỉnh Bình Dương", ("Bến Cát", "Tân Định")),
    # "Dĩ An" is both the city and one of its wards: bare, it is the city
    ("Dĩ An", ("Dĩ An", None)),
    ("thành phố Dĩ An", ("Dĩ An", None)),
])
def test_locate_settles_repeated_names_from_context(
        gazetteer: Gazetteer, text: str, expected: tuple[str, str | None]) -> None:
    assert located(gazetteer, text) == expected


@pytest.mark.parametrize("text", ["Tôi ở Tân Bình", "ở tân hiệp", "nhà em ở An Bình", "thị trấn An Bình"])
def test_locate_gives_nothing_for_a_repeated_name_nothing_settles(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.locate(text) is None


def test_a_district_and_a_ward_of_another_district_give_the_first_said_at_low_confidence(
        gazetteer: Gazetteer) -> None:
    district_first = gazetteer.locate("Tôi ở Dĩ An nhưng làm ở Thuận Giao")
    ward_first = gazetteer.locate("Tôi ở Thuận Giao, con gái tôi ở Dĩ An")
    assert district_first is not None and (district_first.district, district_first.ward) == ("Dĩ An", None)
    assert ward_first is not None and (ward_first.district, ward_first.ward) == ("Thuận An", "Thuận Giao")
    agreed = gazetteer.locate("phường Thuận Giao, Thuận An")
    assert agreed is not None
    assert district_first.confidence < agreed.confidence and ward_first.confidence < agreed.confidence


# --- landmarks ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("cty e o kcn vsip", ("Thuận An", "Bình Hòa")),
    ("Công nhân VSIP 1 bị cách ly", ("Thuận An", "Bình Hòa")),
    ("Công ty ở VSIP II-A", ("Tân Uyên", None)),
    ("KCN Sóng Thần có ca nhiễm", ("Dĩ An", None)),
    ("KCN Sóng Thần 3", ("Thủ Dầu Một", None)),
    ("kẹt xe ở ngã tư 550", ("Dĩ An", None)),
])
def test_a_landmark_alone_gives_its_district(
        gazetteer: Gazetteer, text: str, expected: tuple[str, str | None]) -> None:
    assert located(gazetteer, text) == expected


def test_a_landmark_gives_less_confidence_than_a_named_unit(gazetteer: Gazetteer) -> None:
    landmark = gazetteer.locate("làm ở KCN VSIP")
    district = gazetteer.locate("làm ở Thuận An")
    assert landmark is not None and district is not None
    assert landmark.confidence < district.confidence
    ward = gazetteer.locate("phường Bình Hòa, KCN VSIP")
    assert ward == Place("Thuận An", "Bình Hòa", 0.9, "phường Bình Hòa")


# --- confidence and the matched text ------------------------------------------------------------------------

def test_confidence_rises_with_the_evidence(gazetteer: Gazetteer) -> None:
    texts = ["phường Tân Bình",  # a repeated name settled by its kind
             "Thuận Giao",  # a unique ward, bare
             "phường Thuận Giao",  # a unique ward after its prefix
             "phường Thuận Giao, Thuận An"]  # a ward and its district
    places = [gazetteer.locate(text) for text in texts]
    confidences = [place.confidence for place in places if place is not None]
    assert len(confidences) == len(texts)
    assert confidences == sorted(confidences) and len(set(confidences)) == len(confidences)
    assert all(0 < confidence <= 1 for confidence in confidences)


@pytest.mark.parametrize(("text", "matched"), [
    ("Nhà tôi ở phường Tân Bình, TP Dĩ An, có 3 người sốt", "phường Tân Bình, TP Dĩ An"),
    ("e o p.binh hoa tp.thuan an", "p.binh hoa tp.thuan an"),
    ("TDM có chỗ nào test nhanh", "TDM"),
    ("Ở Thuận Giao, mà con tôi học ở trường tiểu học gần đó thuộc Thuận An", "Thuận Giao … Thuận An"),
    ("NHÀ TÔI Ở PHƯỜNG LÁI THIÊU", "PHƯỜNG LÁI THIÊU"),
])
def test_matched_quotes_the_words_of_the_text(gazetteer: Gazetteer, text: str, matched: str) -> None:
    place = gazetteer.locate(text)
    assert place is not None and place.matched == matched


def test_decomposed_input_is_read_like_composed_input(gazetteer: Gazetteer) -> None:
    text = "Nhà tôi ở phường Tân Bình, thành phố Dĩ An"
    assert gazetteer.locate(unicodedata.normalize("NFD", text)) == gazetteer.locate(text)


# --- properties ---------------------------------------------------------------------------------------------

_VOCABULARY = [
    "phường", "p", "xã", "thị trấn", "tt", "tp", "thành phố", "huyện", "quận", "khu phố", "kp", "ở", "tại",
    "thuộc", "Bình Dương", "KCN", "VSIP", "II", "3", "hai", "Tân Bình", "Dĩ An", "di an", "An Bình",
    "an binh", "Thuận Giao", "Thủ Dầu Một", "tdm", "Bắc", "Tân Uyên", "Tân Định", "Bến Cát", "Phú Giáo",
    "Chánh", "Phú Hòa", "công an", "Lê", "Q7", "\n",
    "Cây Trường", "Sóng Thần", "ga", "đi ăn", "mong", "được", "bình an", "İstanbul", ",", ".", "\u0301", "_",
]


@PROPERTIES
@given(st.text())
def test_locate_never_raises_on_arbitrary_text(gazetteer: Gazetteer, text: str) -> None:
    place = gazetteer.locate(text)
    assert place is None or isinstance(place, Place)


@PROPERTIES
@given(st.lists(st.sampled_from(_VOCABULARY), max_size=12).map(" ".join))
def test_locate_returns_a_real_unit_and_quotes_the_text(gazetteer: Gazetteer, text: str) -> None:
    place = gazetteer.locate(text)
    if place is None:
        return
    wards = {district.name: {ward.name for ward in district.wards} for district in gazetteer.districts}
    assert place.district in wards
    assert place.ward is None or place.ward in wards[place.district]
    assert 0 < place.confidence <= 1
    for part in place.matched.split(" … "):
        assert part and part in unicodedata.normalize("NFC", text)
