"""The explicit urgency rules: signs of danger are found with or without diacritics, negations are not."""
from __future__ import annotations

import pytest

from classifier.red_flags import EMERGENCY, HIGH, RED_FLAGS, match_red_flags
from classifier.text import fold, normalise


def _levels(text: str) -> set[str]:
    return {flag.level for flag in match_red_flags(normalise(text).folded)}


@pytest.mark.parametrize("text", [
    "Mẹ em khó thở lắm, SpO2 còn 88%",
    "me em kho tho lam spo2 con 88",
    "ba e ko thở dc nữa",
    "SpO2 91 anh ơi",
    "alo ông nội em bị ngất xỉu ngoài sân",
    "chau be dang co giat",
    "môi tím tái rồi",
    "chong em dang cam dao doa giet me con em",
    "có người bị đâm ở chợ",
    "thằng bạn nhắn tin tạm biệt nói muốn chết",
    "vợ em vỡ ối rồi mà khu phong tỏa không ra được",
    "công nhân bị điện giật ngã ra không biết gì",
])
def test_life_threatening_signs_are_emergencies(text: str) -> None:
    assert EMERGENCY in _levels(text)


@pytest.mark.parametrize("text", [
    "không khó thở, chỉ ho nhẹ",
    "ko kho tho chi sot nhe",
    "SpO2 98 bình thường",
    "chờ em xíu nha",
    "từ từ rồi tính",
    "cúp điện ngắt điện cả ngày",
    "điện thoại còn bảo hành không",
    "chuyện đã xảy ra hôm qua",
    "mệt muốn chết luôn",
    "xe chở heo đi lò mổ Tân Uyên",
    "cho hỏi giờ làm việc của điểm tiêm",
])
def test_ordinary_or_negated_phrases_are_not_emergencies(text: str) -> None:
    assert EMERGENCY not in _levels(text)


@pytest.mark.parametrize("text", [
    "nhà em hết gạo từ hôm qua",
    "het sach do an roi",
    "bà ngoại 80 tuổi ở một mình không ai chăm sóc",
    "vợ em đang mang thai 8 tháng",
    "bé sốt cao 39 độ",
])
def test_needs_for_today_are_high(text: str) -> None:
    assert HIGH in _levels(text)


@pytest.mark.parametrize(("text", "reason"), [
    ("Nhà bên cạnh cháy rồi, lửa bốc lên cao, trong nhà còn người", "cháy, hỏa hoạn"),
    ("day tro ben em chay roi khoi den ngun ngut", "cháy, hỏa hoạn"),
    ("Ngoài lộ nước ngập, có sợi dây điện đứt rớt xuống nước, mấy đứa nhỏ đang lội", "điện giật, dây điện đứt"),
    ("tru dien truoc nha dang toe lua", "điện giật, dây điện đứt"),
    ("nghe mùi gas nồng quá trời ở dãy trọ", "rò rỉ khí gas"),
    ("nghe mui gas nong lam o day tro", "rò rỉ khí gas"),
    ("thằng nhỏ té xuống kênh, vớt lên rồi mà không thở", "đuối nước"),
    ("Bức tường nhà xưởng bị sập, có công nhân bị vùi bên dưới", "sập đổ, người bị kẹt"),
    ("tai xe bi ket trong cabin sau khi xe tai lat", "sập đổ, người bị kẹt"),
    ("Ba em bị tai nạn xe máy, nằm bất động giữa đường", "tai nạn giao thông có người bị thương"),
    ("co 2 nhom danh nhau, 1 ng bi dam chay mau nhieu lam", "bạo lực đang xảy ra"),
    ("ổng chồng đánh bả chảy máu đầu rồi", "bạo lực đang xảy ra"),
    ("thằng cha đánh con bé dữ lắm", "bạo lực đang xảy ra"),
    ("có người lạ dụ một bé gái lên xe trước cổng chợ", "trẻ em gặp nguy hiểm"),
    ("có đứa nhỏ bị nhốt trong phòng trọ mấy ngày", "trẻ em gặp nguy hiểm"),
    ("ban e nhan tin noi ko muon song nua", "ý định tự tử"),
    ("bé nhà em nuốt pin, đang ói liên tục", "ngộ độc, nuốt phải vật lạ, rắn cắn"),
])
def test_emergencies_beyond_covid_are_found_with_and_without_diacritics(text: str, reason: str) -> None:
    for form in (text, fold(text)):
        reasons = {flag.reason for flag in match_red_flags(normalise(form).folded) if flag.level == EMERGENCY}
        assert reason in reasons, form


@pytest.mark.parametrize("text", [
    "nhà em chạy xe ôm, giờ không chạy được",
    "xe chạy rồi, em không kịp lên",
    "nước chảy hết ra ngoài vì bồn nước bị thủng",
    "đèn giao thông hư, xe chạy lộn xộn",
    "sắp tới có đợt tiêm mũi 3 không",
    "hai nhóm cự cãi, sắp đánh nhau rồi",
    "em bị giật điện thoại ở ngã tư tối qua",
    "hôm qua khu em có cháy nhưng dập xong rồi",
    "về quê Bến Tre vì ở một mình không ai chăm",
    "đăng ký tiêm ở đâu để đi làm",
])
def test_words_that_fold_like_danger_words_are_not_emergencies(text: str) -> None:
    assert EMERGENCY not in _levels(text)


def test_every_rule_has_a_vietnamese_reason_and_a_known_level() -> None:
    assert all(flag.reason and flag.level in (EMERGENCY, HIGH) for flag in RED_FLAGS)
