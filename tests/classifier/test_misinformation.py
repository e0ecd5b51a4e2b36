"""The misinformation classifier: scikit-learn contract, ReINTEL reader, behaviour on a tiny corpus."""
from __future__ import annotations

import csv
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError

from classifier.misinformation import MisinformationClassifier, PostFeatures, load_reintel, metadata_names, signal_text
from classifier.misinformation_eval import (cross_validate_auc, expected_calibration_error, group_near_duplicates,
                                            operating_point, split_holdout, threshold_for_precision)
from classifier.protocols import Explains
from classifier.text import fold

# Reliable posts read like news: a source, a figure, a link, modest sharing. Unreliable posts shout, urge
# sharing and promise miracle cures or secret facts. Topics overlap so that only the style separates them.
RELIABLE = [
    "Bộ Y tế thông báo thêm {n} ca mắc COVID-19 mới tại {place}, tất cả đã được cách ly <URL>",
    "UBND tỉnh {place} công bố kế hoạch tiêm vắc xin đợt {n} cho người dân <URL>",
    "Sở Giáo dục {place} cho học sinh đi học trở lại từ ngày {n}/5 theo hướng dẫn của Bộ",
    "Giá xăng giảm {n} đồng mỗi lít từ chiều nay, theo liên Bộ Công Thương - Tài chính <URL>",
    "Bệnh viện {place} điều trị khỏi cho bệnh nhân số {n}, dự kiến xuất viện tuần sau",
]
UNRELIABLE = [
    "KHẨN CẤP!!! {place} có {n} người chết vì virus, chính quyền giấu kín, chia sẻ ngay kẻo bị xóa!!!",
    "Uống nước tỏi ngâm {n} ngày chữa khỏi corona 100%, bác sĩ không muốn bạn biết!!! Chia sẻ gấp",
    "TIN MẬT: ngày mai {place} phong tỏa toàn bộ, mọi người mua gạo dự trữ ngay!!! Share cho người thân",
    "Cảnh báo!!! Tiêm vắc xin ở {place} làm {n} trẻ em tử vong, báo chí bị cấm đưa tin, lan truyền gấp",
    "Thầy lang {place} có bài thuốc gia truyền trị dứt điểm ung thư trong {n} ngày!!! Ai cũng phải biết",
]
PLACES = ["Bình Dương", "Hà Nội", "Đà Nẵng", "Cần Thơ", "Huế", "Nghệ An", "Quảng Ninh", "Long An"]


def make_post(template: str, index: int, *, unreliable: bool, **overrides: object) -> PostFeatures:
    """A post built from a template; the engagement numbers lean the way real ReINTEL posts do."""
    spread = index % 20
    values: dict[str, object] = {
        "text": template.format(n=index + 3, place=PLACES[index % len(PLACES)]),
        "likes": 40 + 7 * spread if unreliable else 900 + 31 * spread,
        "comments": 60 + 5 * spread if unreliable else 20 + spread,
        "shares": 300 + 11 * spread if unreliable else None,
        "posted_at": datetime(2020, 3, 1 + index % 28, (index * 5) % 24, tzinfo=timezone.utc),
        "author": f"author-{index % 3}" if not unreliable else f"someone-{index}",
    }
    values.update(overrides)
    return PostFeatures(**values)  # type: ignore[arg-type]


def make_corpus(copies: int, offset: int = 0) -> tuple[list[PostFeatures], np.ndarray]:
    """`copies` posts per template, alternating labels: 10 * copies posts, half of them unreliable."""
    posts: list[PostFeatures] = []
    labels: list[int] = []
    for copy in range(copies):
        for template_index, (good, bad) in enumerate(zip(RELIABLE, UNRELIABLE)):
            index = offset + copy * len(RELIABLE) + template_index
            posts += [make_post(good, index, unreliable=False), make_post(bad, index, unreliable=True)]
            labels += [0, 1]
    return posts, np.array(labels)


def make_classifier(**params: object) -> MisinformationClassifier:
    """The production defaults, except leaves small enough for a booster trained on a few dozen posts."""
    return MisinformationClassifier(**{"min_samples_leaf": 5, **params})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def corpus() -> tuple[list[PostFeatures], np.ndarray]:
    """40 training posts, 20 of them unreliable."""
    return make_corpus(4)


@pytest.fixture(scope="module")
def fitted(corpus: tuple[list[PostFeatures], np.ndarray]) -> MisinformationClassifier:
    """A classifier fitted on the tiny corpus, shared by the read-only tests."""
    posts, y = corpus
    return make_classifier().fit(posts, y)


def test_fit_returns_self_and_sets_learned_attributes(corpus: tuple[list[PostFeatures], np.ndarray]) -> None:
    clf = make_classifier()

    assert clf.fit(*corpus) is clf
    learned = [name for name in vars(clf) if name.endswith("_") and not name.startswith("_")]
    assert set(learned) == {
        "classes_", "text_model_", "booster_", "feature_names_", "reference_", "author_posts_"}
    assert list(clf.classes_) == [0, 1]
    assert clf.feature_names_ == (*metadata_names(), "text_score")


def test_init_only_stores_parameters_and_clone_is_unfitted(fitted: MisinformationClassifier) -> None:
    copy = clone(MisinformationClassifier(C=3.0, use_author=True))
    refit_copy = clone(fitted)

    assert copy.get_params()["C"] == 3.0 and copy.get_params()["use_author"] is True
    assert refit_copy.get_params() == fitted.get_params()
    assert not any(name.endswith("_") for name in vars(refit_copy))
    with pytest.raises(NotFittedError):
        refit_copy.predict_proba([make_post(RELIABLE[0], 0, unreliable=False)])


@pytest.mark.parametrize("method", ["predict", "predict_proba", "decision_function", "explain"])
def test_unfitted_model_raises_not_fitted_error(method: str) -> None:
    with pytest.raises(NotFittedError):
        getattr(MisinformationClassifier(), method)([make_post(RELIABLE[0], 0, unreliable=False)])


def test_is_a_classifier_that_explains(fitted: MisinformationClassifier) -> None:
    assert is_classifier(fitted)
    assert isinstance(fitted, Explains)


def test_probabilities_are_rows_that_sum_to_one_and_predict_is_pure(fitted: MisinformationClassifier) -> None:
    posts, _ = make_corpus(1, offset=100)
    params = fitted.get_params()

    proba = fitted.predict_proba(posts)

    assert proba.shape == (len(posts), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_array_equal(fitted.predict_proba(posts), proba)
    np.testing.assert_array_equal(fitted.predict(posts), (proba[:, 1] >= 0.5).astype(int))
    assert fitted.get_params() == params
    assert fitted.predict_proba([]).shape == (0, 2)


def test_separates_unseen_posts_of_the_tiny_corpus(fitted: MisinformationClassifier) -> None:
    posts, y = make_corpus(2, offset=50)

    unreliable = fitted.predict_proba(posts)[:, 1]

    assert unreliable[y == 1].min() > unreliable[y == 0].max()
    assert list(fitted.predict(posts)) == list(y)


def test_scores_posts_with_unknown_metadata(fitted: MisinformationClassifier) -> None:
    bare = PostFeatures(text="Chia sẻ gấp!!! Uống nước tỏi chữa khỏi corona, bác sĩ không muốn bạn biết")

    proba = fitted.predict_proba([bare])

    assert proba.shape == (1, 2) and np.isfinite(proba).all()


def test_top_reasons_name_the_wording_that_flagged_a_post(fitted: MisinformationClassifier) -> None:
    post = make_post(UNRELIABLE[1], 60, unreliable=True)

    reasons = fitted.top_reasons(post, n=3)

    assert reasons[0].startswith("probability unreliable")
    wording = [reason for reason in reasons if reason.startswith("wording")]
    assert 1 <= len(wording) <= 3
    assert all("+" in reason for reason in wording)
    assert not any(reason.startswith("text_score") for reason in reasons)  # the wording explains it


def test_reasons_show_the_phrases_as_written_and_are_cached_never_persisted(
        fitted: MisinformationClassifier) -> None:
    post = make_post(UNRELIABLE[2], 61, unreliable=True)

    first, second = fitted.top_reasons(post, n=3), fitted.top_reasons(post, n=3)

    assert first == second
    assert "_terms_cache" in vars(fitted)  # built by the first call
    assert "_terms_cache" not in fitted.__getstate__()
    phrases = [r.split("'")[1] for r in first if r.startswith("wording")]
    assert phrases and all(phrase in post.text for phrase in phrases)  # with diacritics, from the post


def test_explain_gives_concrete_signals_and_phrases_in_vietnamese(fitted: MisinformationClassifier) -> None:
    post = PostFeatures(text="KHẨN CẤP!!! Uống nước tỏi chữa khỏi corona 100%, chia sẻ gấp kẻo bị xóa!!!",
                        shares=900)

    [reasons] = fitted.explain([post], [1], top=4)

    assert reasons
    assert not any(name in r for r in reasons for name in (*metadata_names(), "text_score", "typical"))
    phrases = [r.removeprefix("cụm từ “").removesuffix("”") for r in reasons if r.startswith("cụm từ")]
    assert all(phrase in post.text for phrase in phrases)


@pytest.mark.parametrize(("name", "value", "text", "expected"), [
    ("source_cues", 0.0, "Uống nước tỏi chữa khỏi", "không dẫn nguồn"),
    ("share_pleas", 1.0, "Tin này thật, CHIA SẺ GẤP cho mọi người", "kêu gọi lan truyền: “CHIA SẺ GẤP”"),
    ("share_pleas", 1.0, "tin nay that, chia se gap nhe", "kêu gọi lan truyền: “chia se gap”"),
    ("exclamations", 5.0, "", "5 dấu chấm than"),
    ("log_shares", float(np.log1p(1200)), "", "1.200 lượt chia sẻ"),
    ("shares_missing", 1.0, "", "không rõ số lượt chia sẻ"),
    ("log_likes", float("nan"), "", "không rõ số lượt thích"),
    ("upper_ratio", 0.42, "", "42% chữ in hoa"),
    ("hour", 23.0, "", "đăng lúc 23 giờ"),
])
def test_signals_are_described_as_a_reviewer_can_check_them(name: str, value: float, text: str,
                                                           expected: str) -> None:
    assert signal_text(name, value, text) == expected


def test_a_post_and_its_copy_without_diacritics_score_the_same(fitted: MisinformationClassifier) -> None:
    posts, _ = make_corpus(1, offset=200)
    stripped = [replace(p, text=fold(p.text)) for p in posts]

    np.testing.assert_allclose(fitted.predict_proba(stripped), fitted.predict_proba(posts), atol=1e-9)


def test_predict_uses_the_threshold_and_metadata_dropout_keeps_the_contract(
        corpus: tuple[list[PostFeatures], np.ndarray]) -> None:
    clf = make_classifier(metadata_dropout=0.5, threshold=0.9).fit(*corpus)
    posts, _ = make_corpus(1, offset=300)

    proba = clf.predict_proba(posts)[:, 1]

    np.testing.assert_array_equal(clf.predict(posts), (proba >= 0.9).astype(int))
    bare = [replace(p, likes=None, comments=None, shares=None, posted_at=None) for p in posts]
    assert np.isfinite(clf.predict_proba(bare)).all()


def test_author_count_is_a_feature_only_when_asked(corpus: tuple[list[PostFeatures], np.ndarray]) -> None:
    clf = make_classifier(use_author=True).fit(*corpus)

    assert clf.feature_names_[-1] == "author_posts"
    assert clf.author_posts_["author-0"] == sum(post.author == "author-0" for post in corpus[0])
    assert clf.predict_proba([PostFeatures(text="tin mới", author="never-seen")]).shape == (1, 2)


@pytest.mark.parametrize(("X", "y", "error"), [
    (["Bộ Y tế thông báo", "chia sẻ gấp"], [0, 1], TypeError),
    ("Bộ Y tế thông báo", [0], TypeError),
    ([PostFeatures(text="a"), PostFeatures(text="b")], [0, 1, 1], ValueError),
    ([PostFeatures(text="a"), PostFeatures(text="b")], [1, 1], ValueError),
    ([PostFeatures(text="a"), PostFeatures(text="b")], [0.5, 1.5], ValueError),
    ([], [], ValueError),
])
def test_fit_rejects_invalid_input(X: object, y: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        MisinformationClassifier().fit(X, y)  # type: ignore[arg-type]


REINTEL_ROWS = [
    ["id", "user_name", "post_message", "timestamp_post",
     "num_like_post", "num_comment_post", "num_share_post", "label"],
    ["1", "aa", "Tin nóng, dòng một\n\nDòng hai <URL>", "1589860203.0", "8", "0", "", "0"],
    ["2", "bb", 'Nói "có" với vắc xin', "1583611894", "unknown", "1 comment", "306.0", "1"],
    ["3", "cc", "Tin ngắn", "", "54 like", "", "June 11th 2020, 19:03:45.000", "0"],
    # A message split on its commas: the text spills into the timestamp column and the numbers shift right.
    ["4", "dd", "2 thanh niên nhập viện", " Hà Nội: tin nổi bật", "1592283607", "4", "0.0", "0"],
]


def test_load_reintel_reads_blanks_quotes_multiline_and_shifted_rows(tmp_path: Path) -> None:
    path = tmp_path / "reintel.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(REINTEL_ROWS)

    posts, y = load_reintel(path)

    assert list(y) == [0, 1, 0, 0]
    assert posts[0] == PostFeatures(
        text="Tin nóng, dòng một\n\nDòng hai <URL>", likes=8, comments=0, shares=None,
        posted_at=datetime.fromtimestamp(1589860203, tz=timezone.utc), author="aa")
    assert posts[1].text == 'Nói "có" với vắc xin'
    assert (posts[1].likes, posts[1].comments, posts[1].shares) == (None, 1, 306)
    assert (posts[2].posted_at, posts[2].likes, posts[2].comments, posts[2].shares) == (None, 54, None, None)
    assert posts[3].text == "2 thanh niên nhập viện, Hà Nội: tin nổi bật"
    assert (posts[3].posted_at, posts[3].likes, posts[3].comments, posts[3].shares) == (
        datetime.fromtimestamp(1592283607, tz=timezone.utc), 4, 0, None)


def test_near_duplicates_share_a_group() -> None:
    hoax = "Một thạc sĩ người Việt tại Thâm Quyến cho biết virus corona lây qua đường không khí, hãy chia sẻ"
    texts = [hoax, "MỌI NGƯỜI CHÚ Ý!!! " + hoax, "Giá xăng giảm 500 đồng mỗi lít từ chiều nay"]

    groups = group_near_duplicates(texts)

    assert groups[0] == groups[1] != groups[2]


def test_cross_validate_auc_reports_folds_per_seed(corpus: tuple[list[PostFeatures], np.ndarray]) -> None:
    report = cross_validate_auc(*corpus, n_splits=2, seeds=(0, 1), estimator=make_classifier())

    assert len(report["roc_auc_folds"]) == 4 and len(report["roc_auc_seed_means"]) == 2
    assert report["roc_auc_mean"] > 0.9
    assert (report["n_posts"], report["n_positive"]) == (40, 20)


def test_threshold_is_the_lowest_that_reaches_the_precision() -> None:
    y = np.array([0] * 80 + [1] * 20)
    proba = np.r_[np.linspace(0, 0.6, 80), np.linspace(0.4, 1, 20)]

    threshold = threshold_for_precision(y, proba, precision=0.85)
    point = operating_point(y, proba, threshold)

    assert point["precision"] >= 0.85
    assert operating_point(y, proba, threshold - 0.01)["precision"] < 0.85
    assert threshold_for_precision(y, np.full(100, 0.3), precision=0.85) == 0.5  # never reached


def test_calibration_error_is_zero_when_rates_match_and_large_when_not() -> None:
    y = np.array([1, 0, 0, 0] * 25)

    assert expected_calibration_error(y, np.full(100, 0.25)) == pytest.approx(0.0)
    assert expected_calibration_error(y, np.full(100, 0.95)) == pytest.approx(0.70)


def test_holdout_is_a_stratified_fifth_that_keeps_reposts_together() -> None:
    hoax = "Uống nước tỏi ngâm chữa khỏi corona, chia sẻ gấp cho mọi người kẻo bị xóa"
    texts = [hoax, "MỌI NGƯỜI ƠI!!! " + hoax] + [f"Tin số {i}: giá xăng giảm {i}00 đồng mỗi lít" for i in range(98)]
    y = np.array([1, 1] + [1 if i % 5 == 0 else 0 for i in range(98)])

    development, held_out = split_holdout(texts, y)

    assert set(development).isdisjoint(held_out) and len(development) + len(held_out) == 100
    assert 15 <= len(held_out) <= 25
    assert (0 in held_out) == (1 in held_out)
