"""`hotline classify`, `train` and `evaluate`: the JSON Lines contract, bad lines, progress and reports."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hotline.cli import cli

RUNNER = CliRunner()


def _classify(model: str, lines: list[str], *args: str) -> tuple[list[dict[str, object]], str, int]:
    result = RUNNER.invoke(cli, ["classify", "--model", model, *args], input="\n".join(lines) + "\n",
                           env={"LOG_LEVEL": "WARNING"})
    out = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    return out, result.stderr, result.exit_code


@pytest.mark.parametrize(("text", "label"), [
    ("Mẹ em khó thở, SpO2 còn 88%, cần xe cấp cứu", "medical"),
    ("cho hoi dang ky tiem vac xin mui 2 o dau vay", "vaccination"),
    ("khu pho em bi phong toa 3 ngay roi het gao an", "food_supply"),
    ("Trên Facebook có tin Bình Dương phong tỏa toàn tỉnh từ mai, có đúng không ạ?", "misinformation_report"),
])
def test_classify_category_of_clear_examples(text: str, label: str) -> None:
    out, _, code = _classify("category", [json.dumps({"id": "a", "text": text}, ensure_ascii=False)])

    assert code == 0
    assert out[0]["id"] == "a" and out[0]["label"] == label
    assert 0 < float(out[0]["score"]) <= 1  # type: ignore[arg-type]
    assert isinstance(out[0]["reasons"], list) and out[0]["reasons"]


@pytest.mark.parametrize("text", ["ba em kho tho tim tai roi", "Bà em khó thở, môi tím tái rồi"])
def test_classify_urgency_flags_emergency_with_and_without_diacritics(text: str) -> None:
    out, _, code = _classify("urgency", [json.dumps({"id": 7, "text": text}, ensure_ascii=False)])

    assert code == 0
    assert out == [{"id": 7, "label": "emergency", "score": out[0]["score"], "reasons": out[0]["reasons"]}]
    assert "quy tắc: khó thở" in out[0]["reasons"]  # type: ignore[operator]


def test_bad_lines_are_reported_with_their_number_and_skipped() -> None:
    lines = ['{"id": 1, "text": "hết gạo rồi"}', "not json", '{"id": 3}', '["a list"]', "",
             '{"id": 6, "text": "   "}', '{"id": 7, "text": "cần tiêm vắc xin"}']

    out, err, code = _classify("category", lines)

    assert code == 0
    assert [o["id"] for o in out] == [1, 7]
    assert "line 2:" in err and "line 3: missing or empty 'text'" in err
    assert "line 4: expected a JSON object" in err and "line 6:" in err


def test_classify_without_a_trained_model_is_a_clear_error(tmp_path: Path) -> None:
    _, err, code = _classify("category", ['{"id": 1, "text": "x"}'], "--models-dir", str(tmp_path))

    assert code == 1
    assert "no model named 'category'" in err


def test_train_with_corrections_writes_a_model_and_card_that_classify_uses(tmp_path: Path) -> None:
    extra = tmp_path / "corrections.jsonl"
    extra.write_text('{"text": "đèn đường hư", "label": "other"}\nbroken line\n{"text": "x", "label": "nope"}\n')

    result = RUNNER.invoke(cli, ["train", "category", "--extra", str(extra), "--folds", "2",
                                 "--models-dir", str(tmp_path)], env={"LOG_LEVEL": "WARNING"})

    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "corrections.jsonl:2" in result.stderr
    assert "unknown category label 'nope'" in result.stderr
    card = (tmp_path / "category.v1" / "MODEL_CARD.md").read_text()
    assert "2-fold stratified cross-validation" in card
    out, _, code = _classify("category", ['{"id": 1, "text": "me em kho tho can cap cuu"}'],
                             "--models-dir", str(tmp_path))
    assert out[0]["label"] == "medical"


def test_evaluate_prints_per_label_scores_and_confusion(tmp_path: Path) -> None:
    data = tmp_path / "eval.jsonl"
    rows = [{"text": "mẹ em khó thở cần cấp cứu", "label": "medical"},
            {"text": "dang ky tiem vac xin o dau", "label": "vaccination"},
            {"text": "khu phố phong tỏa hết gạo", "label": "food_supply"}]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{bad\n")

    result = RUNNER.invoke(cli, ["evaluate", "category", "--data", str(data)], env={"LOG_LEVEL": "WARNING"})

    assert result.exit_code == 0, result.output
    assert "macro-F1" in result.stdout and "confusion" in result.stdout
    assert "line 4:" in result.stderr
    medical = next(line for line in result.stdout.splitlines() if line.startswith("medical "))
    assert medical.split()[-1] == "1"


def test_classify_misinformation_scores_posts_with_metadata_and_reports_bad_lines() -> None:
    lines = [json.dumps({"id": "p1", "text": "KHẨN CẤP!!! Uống nước lá đu đủ chữa khỏi covid 100%, chia sẻ ngay "
                         "cho người thân kẻo muộn!!!", "shares": 900, "likes": 50, "comments": 300,
                         "posted_at": "2021-07-20T21:00:00+07:00"}, ensure_ascii=False),
             json.dumps({"id": "p2", "text": "Sở Y tế thông báo lịch tiêm vắc xin mũi 2 tại các phường của TP Thủ "
                         "Dầu Một từ ngày 20/8, người dân mang theo CCCD.", "likes": 40, "shares": 3,
                         "posted_at": 1629450000}, ensure_ascii=False),
             '{"id": "p3", "text": "x", "likes": "many"}', '{"id": "p4", "text": "y", "posted_at": "hôm qua"}']

    out, err, code = _classify("misinformation", lines)

    assert code == 0
    assert [o["id"] for o in out] == ["p1", "p2"]
    assert {o["label"] for o in out} <= {"reliable", "unreliable"}
    assert float(out[0]["score"]) > float(out[1]["score"])  # type: ignore[arg-type]
    assert out[0]["reasons"]
    assert "line 3: 'likes' must be a number" in err and "line 4: 'posted_at'" in err


def test_classify_misinformation_reads_reintel_rows_and_warns_once_about_unknown_fields() -> None:
    rows = [{"id": "r1", "post_message": "Chia sẻ gấp!!! Uống nước chanh chữa khỏi covid", "num_like_post": "unknown",
             "num_comment_post": "3", "num_share_post": "306.0", "timestamp_post": "1589860203.0",
             "user_name": "6bb91ced", "label": "1", "extra": 1},
            {"id": "r2", "text": "Bộ Y tế thông báo thêm 12 ca mắc mới", "likes": "", "posted_at": "unknown",
             "extra": 2, "other": True}]

    out, err, code = _classify("misinformation", [json.dumps(r, ensure_ascii=False) for r in rows])

    assert code == 0
    assert [o["id"] for o in out] == ["r1", "r2"]
    assert "must be a number" not in err and "posted_at" not in err
    warnings = [line for line in err.splitlines() if "ignored fields" in line]
    assert len(warnings) == 1
    assert "'extra' (first on line 1)" in warnings[0] and "'other' (first on line 2)" in warnings[0]
    assert "num_like_post" not in err and "label" not in err


def test_reintel_names_give_the_same_post_as_ours() -> None:
    from classifier.misinformation_input import post_from_json

    ours = post_from_json({"text": "x", "likes": 8, "comments": None, "shares": 306,
                           "posted_at": 1589860203, "author": "ab"})
    theirs = post_from_json({"post_message": "x", "num_like_post": "8", "num_comment_post": "unknown",
                             "num_share_post": "306.0", "timestamp_post": "1589860203.0", "user_name": "ab"})

    assert theirs == ours
