"""Vietnamese names of the codes people see (labels in code stay English)."""
from __future__ import annotations

from typing import Final

CATEGORY: Final = {
    "medical": "Y tế", "testing": "Xét nghiệm", "vaccination": "Tiêm chủng", "quarantine": "Cách ly, phong tỏa",
    "food_supply": "Lương thực, thực phẩm", "social_support": "Hỗ trợ an sinh", "travel_permit": "Giấy đi đường",
    "public_order": "An ninh trật tự", "prices": "Giá cả", "misinformation_report": "Tin sai lệch", "other": "Khác",
}
URGENCY: Final = {"emergency": "Khẩn cấp", "high": "Cao", "normal": "Bình thường"}
STATUS: Final = {"new": "Mới", "assigned": "Đã nhận", "in_progress": "Đang xử lý", "resolved": "Đã giải quyết",
                 "closed": "Đã đóng", "reopened": "Mở lại"}
CHANNEL: Final = {"call": "Cuộc gọi", "sms": "Tin nhắn", "manual": "Nhập tay", "zalo": "Zalo",
           "isolation": "Theo dõi F0"}
