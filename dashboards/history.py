"""Ticket history and audit entries as Vietnamese sentences ("Lan chuyển trạng thái: Mới → Đang xử lý").

Stored history keeps English action codes and raw before/after values (they are data); people read these
sentences instead (issue 13). Names are display names, tickets are their visible numbers.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from hotline.kernel.records import LOCAL_TZ
from dashboards import labels

ACTORS: Final = {"system": "Hệ thống", "twilio": "Tổng đài"}
ROLE_NAMES: Final = {"operator": "Điện thoại viên", "comms": "Truyền thông", "leader": "Lãnh đạo", "admin": "Quản trị",
                     "medical": "Y tế phường"}
CLAIM_STATES: Final = {"new": "Mới", "watching": "Đang theo dõi", "flagged": "Bị gắn cờ", "in_review": "Đang xác minh",
                       "verdict_given": "Đã kết luận", "correction_published": "Đã đăng cải chính",
                       "dismissed": "Bỏ qua"}
VERDICTS: Final = {"false": "Sai sự thật", "misleading": "Gây hiểu lầm", "true": "Đúng sự thật",
                   "unverified": "Chưa kiểm chứng"}


@dataclass(frozen=True, slots=True)
class Names:
    """How to show people and tickets: user name -> display name, ticket id -> visible number."""

    people: Mapping[str, str]
    tickets: Mapping[str, str]

    def person(self, username: str) -> str:
        """A display name; codes of the system and Twilio in Vietnamese."""
        return ACTORS.get(username) or self.people.get(username, username)

    def ticket(self, ticket_id: str) -> str:
        """A visible number when known, else the id."""
        return self.tickets.get(ticket_id, ticket_id)


def local_time(value: Any) -> str:
    """dd/mm/yyyy HH:MM in Asia/Ho_Chi_Minh."""
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if isinstance(moment, datetime) else str(value)


def _value(name: str, value: Any, names: Names) -> str:
    if value is None or value == "":
        return "(trống)"
    shown: Mapping[str, Callable[[Any], str]] = {
        "status": lambda v: labels.STATUS.get(v, v), "category": lambda v: labels.CATEGORY.get(v, v),
        "urgency": lambda v: labels.URGENCY.get(v, v), "assignee": names.person,
        "merged_into": names.ticket, "sla_due_at": local_time, "follow_up_at": local_time,
        "escalated_at": local_time, "state": lambda v: CLAIM_STATES.get(v, v),
        "verdict": lambda v: VERDICTS.get(v, v), "role": lambda v: ROLE_NAMES.get(v, v),
        "active": lambda v: "đang hoạt động" if v else "đã khóa",
        "category_score": lambda v: f"{float(v) * 100:.0f}%",
    }
    return shown.get(name, str)(value)


FIELDS: Final = {
    "status": "trạng thái", "category": "lĩnh vực", "urgency": "mức độ", "district": "địa bàn",
    "ward": "xã/phường", "sla_due_at": "hạn xử lý", "follow_up_at": "hẹn gọi lại", "merged_into": "gộp vào phiếu",
    "category_score": "độ tin cậy", "state": "trạng thái", "verdict": "kết luận",
    "correction_text": "nội dung cải chính", "correction_url": "đường dẫn cải chính", "role": "vai trò",
    "active": "tình trạng", "display_name": "họ tên", "channel": "kênh",
}
SILENT: Final = frozenset({"category_corrected", "recording_url", "recording_sid", "recording_transcript",
                           "escalated_at", "password_hash", "username"})


def _field_changes(before: Mapping[str, Any], after: Mapping[str, Any], actor: str, names: Names) -> list[str]:
    parts = []
    for name, new in after.items():
        if name in SILENT or (name == "category_score" and new is None):  # a correction: shown by its category
            continue
        old = before.get(name)
        if name == "assignee":
            parts.append("nhận xử lý" if new == actor else
                         "bỏ nhận xử lý" if not new else f"giao cho {names.person(str(new))}")
        elif name == "follow_up_at" and new:
            parts.append(f"hẹn gọi lại lúc {local_time(new)}")
        elif name == "merged_into" and new:
            parts.append(f"gộp vào phiếu {names.ticket(str(new))}")
        elif name in before and old not in (None, "") and old != new:
            parts.append(f"chuyển {FIELDS.get(name, name)}: {_value(name, old, names)} → {_value(name, new, names)}")
        else:
            parts.append(f"{FIELDS.get(name, name)}: {_value(name, new, names)}")
    return parts


def describe(actor: str, action: str, before: Mapping[str, Any], after: Mapping[str, Any], names: Names) -> str:
    """One history or audit entry as a sentence; `action` may carry the audit's prefix (ticket_, claim_)."""
    who = names.person(actor)
    code = action.removeprefix("ticket_").removeprefix("claim_")
    fixed = {
        "created": f"{who} tạo phiếu" + (f" ({labels.CHANNEL.get(after['channel'], after['channel'])})"
                                         if after.get("channel") else ""),
        "note": f"{who} thêm ghi chú",
        "recording": f"{who} lưu bản ghi âm cuộc gọi",
        "escalated": f"{who} nhắn tin báo trực ban: phiếu khẩn cấp quá hạn chưa có người nhận",
        "outcome_sms_sent": f"{who} nhắn tin báo kết quả cho người gọi",
        "outcome_sms_failed": f"{who} không gửi được tin nhắn báo kết quả cho người gọi",
        "sms_reply_sending": f"{who} nhắn tin trả lời người gọi: “{after.get('body', '')}”",
        "sms_reply_sent": "Đã gửi tin nhắn trả lời cho người gọi",
        "sms_reply_failed": f"Không gửi được tin nhắn trả lời ({after.get('error', 'lỗi')})",
        "user_created": f"{who} thêm người dùng {after.get('username', '')}"
                        + (f" ({_value('role', after['role'], names)})" if after.get("role") else ""),
        "password_reset": f"{who} đặt lại mật khẩu",
        "flagged": f"{who} gắn cờ tin đồn",
        "known_claim_registered": f"{who} ghi nhận tin đã kiểm chứng"
                                  + (f" ({_value('verdict', after['verdict'], names)})" if after.get("verdict") else "")
                                  + (f": “{after['text']}”" if after.get("text") else ""),
        "zalo_reply": f"{who} trả lời người dân qua Zalo",
        "merge": f"{who} gộp tin đồn",
        "rebuild": f"{who} nhóm lại bài đăng bằng bộ so khớp mới",
        "split": f"{who} tách bài đăng thành tin đồn riêng",
        "case_registered": f"{who} đăng ký theo dõi ca F0 tại nhà",
        "case_alert": f"{who} báo động: ca F0 chuyển nặng",
        "case_contacted": f"{who} đã liên hệ ca F0",
        "case_hospital": f"{who} chuyển ca F0 đi viện",
        "case_recovered": f"{who} kết thúc theo dõi: ca F0 đã khỏi",
        "case_deleted": f"{who} xóa hồ sơ ca F0 hết hạn lưu trữ",
    }
    if code in fixed:
        return fixed[code]
    parts = _field_changes(before, after, actor, names)
    verb = {"classified": "phân loại", "user_updated": "cập nhật người dùng", "review": "xác minh",
            "updated": ""}.get(code, code)
    if not parts:
        return f"{who} {verb}".strip()
    sentence = "; ".join(parts)
    return f"{who} {verb}: {sentence}" if verb else f"{who} {sentence}"
