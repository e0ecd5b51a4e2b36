"""Writes intake-d531065.sqlite3 and social-d531065.sqlite3: journals as the code of commit d531065 (the last
before the shared kernel and the typed commands, issue 15) left them on disk, with entries still pending.

Run from the repository root: `python tests/data/journals/make_old_journals.py`. It loads the journal modules
of that commit with `git show`, so the files are what that code wrote, not what today's code thinks it wrote.
tests/intake/test_old_journal.py and tests/social_monitor/test_old_journal.py replay them with today's code.
"""
from __future__ import annotations

import subprocess
import sys
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

COMMIT = "d531065"
HERE = Path(__file__).parent
AT = datetime(2026, 11, 27, 3, 0, tzinfo=timezone.utc)


def old_module(path: str) -> types.ModuleType:
    """The module at `path` as it was at COMMIT."""
    source = subprocess.run(["git", "show", f"{COMMIT}:{path}"], check=True, capture_output=True, text=True).stdout
    module = types.ModuleType(f"old_{path.replace('/', '_')[:-3]}")
    sys.modules[module.__name__] = module  # dataclasses look their module up while the class is made
    exec(compile(source, f"{COMMIT}:{path}", "exec"), module.__dict__)
    return module


def at(minutes: int) -> datetime:
    return AT + timedelta(minutes=minutes)


def write_intake(path: Path) -> None:
    """Entries of every kind the webhooks and the reply API wrote, as the old views built their payloads."""
    from intake.records import ticket_number  # unchanged since COMMIT

    old = old_module("intake/journal.py")
    journal = old.Journal(path)
    caller, sender = "+84911000001", "+84922000002"
    done = journal.append("sms", "sms:SMold0", {"message_sid": "SMold0", "sender": "+84933000003",
                                                "body": "đã lưu trước khi nâng cấp", "ticket_id": "sms-SMold0",
                                                "number": ticket_number("sms-SMold0", at(0)), "received_at": at(0).isoformat()}, at(0))
    journal.mark_done([done.entry.id])
    journal.append("call", "call:CAold1", {"call_sid": "CAold1", "caller": caller, "received_at": at(1).isoformat()},
                   at(1), ticket=old.TicketRef(caller, "call-CAold1", ticket_number("call-CAold1", at(1))))
    journal.append("transcription", "transcript:CAold1:1",
                   {"call_sid": "CAold1", "sequence": 1, "text": "Khu phố 3 phường Phú Hòa có người sốt cao khó thở",
                    "received_at": at(2).isoformat()}, at(2))
    journal.append("recording", "recording:REold1:completed",
                   {"call_sid": "CAold1", "recording_sid": "REold1",
                    "recording_url": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/REold1",
                    "status": "completed", "duration_s": 42, "received_at": at(3).isoformat()}, at(3))
    number = ticket_number("sms-SMold1", at(4))
    ref = old.TicketRef(sender, "sms-SMold1", number)
    for n, body in ((1, "xin hỏi lịch tiêm vaccine ở Thuận An"), (2, "cho em hỏi thêm giấy đi đường")):
        journal.append("sms", f"sms:SMold{n}", {"message_sid": f"SMold{n}", "sender": sender, "body": body,
                                                 "ticket_id": "sms-SMold1", "number": number,
                                                 "received_at": at(3 + n).isoformat()}, at(3 + n), ticket=ref)
    journal.append("reply", "reply:sms-SMold1:k-old-1", {"ticket_id": "sms-SMold1", "key": "k-old-1",
                                                          "body": "Lịch tiêm ở trạm y tế phường", "actor": "lan"},
                   at(6))
    journal.append("zalo", "zmsgold1", {
        "event": "user_send_text", "msg_id": "zmsgold1", "user_id": "4411", "user_id_by_app": "8811",
        "text": "chợ Thủ Dầu Một vẫn họp đông người", "image_url": None, "audio_url": None, "latitude": None,
        "longitude": None, "ticket_id": "zalo-zmsgold1", "number": ticket_number("zalo-zmsgold1", at(7)),
        "received_at": at(7).isoformat()},
        at(7), ticket=old.TicketRef("zalo:4411", "zalo-zmsgold1", ticket_number("zalo-zmsgold1", at(7))))
    journal.append("zalo_follow", "follow:4412:1764212880000", {"event": "follow", "user_id": "4412",
                                                                "received_at": at(8).isoformat()}, at(8))
    bad = journal.append("sms", "sms:SMbad", {"message_sid": "SMbad"}, at(9))
    for _ in range(old.MAX_ATTEMPTS):
        journal.mark_failed(bad.entry.id, "KeyError: 'body'")
    journal.close()


def write_social(path: Path) -> None:
    """A collector's batch with its cursor, a pushed post, a done post and a parked one."""
    from social_monitor.records import RawPost

    old = old_module("social_monitor/journal.py")
    journal = old.PostJournal(path)
    journal.register_source("rss-old", "rss")
    posts = [RawPost.from_json({"id": f"old{n}", "text": text, "published_at": at(n).isoformat(),
                                "url": f"https://tin.example/old{n}"}, default_source="rss-old")
             for n, text in enumerate(["Tin đồn: tối nay trực thăng rải thuốc khử trùng toàn tỉnh",
                                       "Uống nước lá xông chữa khỏi Covid trong 3 ngày",
                                       "Bình Dương phong tỏa toàn bộ thành phố Thủ Dầu Một từ mai"])]
    journal.accept(posts, at(10), source="rss-old", cursor="cursor-old-3")
    journal.accept([RawPost.from_json({"id": "push1", "text": "Chợ đầu mối sẽ đóng cửa 14 ngày"},
                                      default_source="push:partner")], at(11))
    journal.accept([RawPost.from_json({"id": "done1", "text": "đã lưu trước khi nâng cấp"},
                                      default_source="push:partner")], at(12))
    journal.accept([RawPost.from_json({"id": "parked1", "text": "bị từ chối"}, default_source="push:partner")],
                   at(13))
    (_, *middle, done, parked) = [p.id for p in journal.pending()]
    journal.mark_done([done])
    journal.park(parked, "DocumentRejected: 400 mapper_parsing_exception")
    journal.close()


if __name__ == "__main__":
    for name, write in (("intake", write_intake), ("social", write_social)):
        target = HERE / f"{name}-{COMMIT}.sqlite3"
        for stale in HERE.glob(f"{target.name}*"):
            stale.unlink()
        write(target)
        print(f"wrote {target}")
