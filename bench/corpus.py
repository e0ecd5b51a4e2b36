"""Generated Vietnamese hotline texts: phrases recombined, mixed lengths, with and without diacritics.

Nothing is read from disk: every text is built from the phrases below with a seeded `random.Random`, so two
runs with the same seed benchmark the same texts. Lengths run from 3 to 80 words; about a third of the texts
lose their diacritics (as typed on a phone without a Vietnamese keyboard) and some use chat shorthand.
"""
from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Final

from classifier.text import fold

DISTRICTS: Final = ("Thủ Dầu Một", "Dĩ An", "Thuận An", "Tân Uyên", "Bến Cát", "Bàu Bàng", "Bắc Tân Uyên",
    "Dầu Tiếng", "Phú Giáo")
WARDS: Final = ("phường Phú Hòa", "phường Hiệp Thành", "phường Đông Hòa", "phường Tân Đông Hiệp",
    "phường Lái Thiêu", "phường An Phú", "phường Bình Chuẩn", "phường Mỹ Phước", "xã Lai Uyên",
    "thị trấn Dầu Tiếng", "xã An Bình", "phường Uyên Hưng", "phường Thuận Giao", "phường Dĩ An",
    "xã Tân Bình")
URGENCIES: Final = ("emergency", "high", "normal")

OPENERS: Final = ("Alo cho em hỏi", "Xin chào tổng đài", "Dạ em chào anh chị", "Tôi muốn phản ánh",
    "Cho tôi hỏi chút", "Chào đường dây nóng", "Em gọi để báo", "Nhờ tổng đài giúp đỡ", "Dạ cho hỏi",
    "Tôi xin phản ánh việc này")
PLACES: Final = ("ở {ward} {district}", "tại khu phố 3 {ward}", "nhà trọ đường số 5 {district}",
    "khu nhà trọ gần chợ {district}", "ấp 2 {ward} {district}", "chung cư ở {district}",
    "gần công ty giày da ở {district}", "hẻm 12 đường ĐT743 {ward}")
TOPICS: Final[dict[str, tuple[str, ...]]] = {
    "medical": ("mẹ tôi sốt cao ba ngày rồi", "ông nội bị khó thở từ tối qua", "con tôi ho nhiều và mệt",
        "người nhà đo SpO2 chỉ còn 90", "cần xe cấp cứu đưa đi bệnh viện", "bà ngoại bị tiểu đường cần thuốc",
        "có người ngất xỉu trong phòng trọ", "trạm y tế không bắt máy",
        "F0 cách ly tại nhà cần bác sĩ tư vấn"),
    "testing": ("khi nào khu phố được test nhanh", "xin kết quả xét nghiệm PCR của gia đình",
        "test nhanh dương tính rồi phải làm gì", "đã lấy mẫu năm ngày chưa có kết quả",
        "công ty yêu cầu giấy xét nghiệm âm tính", "điểm xét nghiệm đông quá chờ lâu"),
    "vaccination": ("khi nào được tiêm mũi hai", "đăng ký tiêm vắc xin mà chưa được gọi",
        "người già chưa được tiêm vaccine", "xin lịch tiêm cho công nhân", "tiêm xong bị sốt có sao không",
        "chưa có giấy xác nhận tiêm chủng"),
    "quarantine": ("khu trọ bị phong tỏa mười ngày rồi", "hàng xóm là F1 nhưng vẫn ra ngoài",
        "khi nào được gỡ phong tỏa", "người từ vùng dịch về chưa khai báo",
        "cách ly tập trung thiếu nước uống", "F1 cách ly tại nhà được không"),
    "food_supply": ("nhà hết gạo hai ngày rồi", "xin hỗ trợ thực phẩm cho công nhân",
        "đi chợ hộ mà không ai giao", "túi an sinh chưa tới khu trọ", "trẻ nhỏ cần sữa mà không mua được",
        "khu phong tỏa thiếu rau và thịt"),
    "social_support": ("mất việc không có tiền trả tiền trọ", "xin gói hỗ trợ của nhà nước",
        "người lao động tự do chưa nhận tiền hỗ trợ", "chủ trọ không giảm tiền phòng",
        "gia đình khó khăn cần giúp đỡ", "danh sách hỗ trợ bỏ sót nhà tôi"),
    "travel_permit": ("xin giấy đi đường để đi làm", "qua chốt kiểm soát cần giấy gì", "về quê có được không",
        "chở người thân đi bệnh viện có bị phạt không", "shipper có được đi qua chốt không",
        "giấy đi đường hết hạn rồi"),
    "public_order": ("có nhóm người tụ tập nhậu giữa đêm", "hàng xóm đánh nhau ầm ĩ", "có người trộm xe máy",
        "quán vẫn mở cửa bán hàng ban đêm", "thanh niên đua xe ngoài đường", "có người tự tử trên cầu"),
    "prices": ("rau bán giá gấp ba", "một ký thịt giá hai trăm nghìn", "tiệm thuốc bán khẩu trang giá cao",
        "máy đo oxy bán giá cắt cổ", "đi chợ hộ thu phí quá cao", "gạo tăng giá từng ngày"),
    "misinformation_report": ("trên Facebook nói uống nước lá xông khỏi bệnh",
        "tin nhắn bảo sắp phong tỏa toàn tỉnh có thật không", "nghe nói vắc xin gây vô sinh",
        "clip trên mạng nói bệnh viện hết chỗ", "có người đăng tin giả về số ca",
        "Zalo lan truyền thuốc chữa covid bằng tỏi"),
    "other": ("cho hỏi số điện thoại của phường", "muốn góp ý về cách làm việc của tổ dân phố",
        "cảm ơn các anh chị tuyến đầu", "đèn đường bị hư mấy tuần nay", "rác không ai thu gom",
        "xin địa chỉ nộp hồ sơ"),
}
CATEGORIES: Final = tuple(TOPICS)
DETAILS: Final = ("mong các anh chị xem xét giải quyết sớm", "gia đình có hai người già và một em bé",
                  "đã gọi nhiều lần mà không ai nghe máy", "tôi đang rất lo lắng",
                  "nhờ cán bộ phường xuống kiểm tra",
                  "việc này kéo dài mấy hôm nay rồi", "số điện thoại của tôi là 0912 345 678",
                  "nhà có người đang mang thai", "xin hướng dẫn cụ thể giúp em",
                  "mọi người trong khu đều bức xúc")
CLOSINGS: Final = ("Cảm ơn nhiều!", "Xin cảm ơn.", "Mong phản hồi sớm.", "Gấp lắm ạ!!!", "Cảm ơn tổng đài ạ.")
# Chat shorthand people really type; classifier.teencode expands these back.
SHORTHAND: Final = {"không": "ko", "được": "dc", "gì": "j", "rồi": "r", "vậy": "v", "anh": "a", "em": "e",
                    "bao nhiêu": "bn", "tôi": "t", "với": "vs"}


def _words(rng: random.Random, category: str) -> list[str]:
    district, ward = rng.choice(DISTRICTS), rng.choice(WARDS)
    parts = [rng.choice(OPENERS), rng.choice(PLACES).format(ward=ward, district=district),
             *rng.sample(TOPICS[category], k=min(len(TOPICS[category]), rng.randint(1, 3)))]
    parts += rng.sample(DETAILS, k=rng.randint(0, 4))
    if rng.random() < 0.2:  # mixed reports: a second topic in the same call
        parts.append(rng.choice(TOPICS[rng.choice(CATEGORIES)]))
    parts.append(rng.choice(CLOSINGS))
    return " ".join(parts).split()


def _length(rng: random.Random, low: int, high: int) -> int:
    # Log-uniform: many short SMS, a long tail of long call transcripts.
    return int(round(low * (high / low) ** rng.random()))


def make_text(rng: random.Random, category: str, *, min_words: int = 3, max_words: int = 80) -> str:
    """One text about `category`, min_words..max_words long, sometimes without diacritics or in shorthand."""
    target = _length(rng, min_words, max_words)
    words = _words(rng, category)
    while len(words) < target:
        words += _words(rng, category)[1:]
    start = 0 if rng.random() < 0.6 or target >= len(words) else rng.randint(0, len(words) - target)
    text = " ".join(words[start:start + target])
    if rng.random() < 0.15:
        for full, short in SHORTHAND.items():
            text = text.replace(f" {full} ", f" {short} ")
    if rng.random() < 0.35:
        text = fold(text)
    if rng.random() < 0.1:
        text = text.lower()
    return text


def make_texts(n: int, *, seed: int = 1022) -> list[str]:
    """`n` texts, categories in turn, deterministic for a seed."""
    rng = random.Random(seed)
    return [make_text(rng, CATEGORIES[i % len(CATEGORIES)]) for i in range(n)]


def labelled_texts(n: int, *, seed: int = 1022) -> Iterator[tuple[str, str]]:
    """(category, text) pairs, categories in turn."""
    rng = random.Random(seed)
    for i in range(n):
        category = CATEGORIES[i % len(CATEGORIES)]
        yield category, make_text(rng, category)
