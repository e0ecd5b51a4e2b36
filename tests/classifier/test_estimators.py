"""The category and urgency estimators: the scikit-learn contract and behaviour on clear examples."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError

from classifier.estimators import LinearTextClassifier, UrgencyClassifier, explain_proba_all
from classifier.protocols import Explains, TextClassifier
from classifier.text import fold

TINY = [
    ("mẹ em khó thở cần xe cấp cứu", "medical"), ("ba em sốt cao ho nhiều cần bác sĩ", "medical"),
    ("cho hỏi đăng ký tiêm vắc xin mũi hai ở đâu", "vaccination"), ("lịch tiêm vaccine cho người già", "vaccination"),
    ("khu phố em bị phong tỏa hết gạo ăn", "food_supply"), ("không có rau thịt, chợ đóng cửa", "food_supply"),
]


def _fit(estimator: LinearTextClassifier) -> LinearTextClassifier:
    return estimator.fit([t for t, _ in TINY], [y for _, y in TINY])


def test_fit_returns_self_and_sets_learned_attributes() -> None:
    clf = LinearTextClassifier()

    assert _fit(clf) is clf
    assert list(clf.classes_) == ["food_supply", "medical", "vaccination"]
    assert hasattr(clf, "pipeline_")


def test_init_only_stores_parameters_and_clone_is_unfitted() -> None:
    clf = _fit(LinearTextClassifier(C=3.0))
    copy = clone(clf)

    assert copy.get_params()["C"] == 3.0
    assert not hasattr(copy, "pipeline_")
    with pytest.raises(NotFittedError):
        copy.predict(["khó thở"])


def test_is_a_classifier_and_meets_the_protocols() -> None:
    clf = _fit(LinearTextClassifier())

    assert is_classifier(clf)
    assert isinstance(clf, TextClassifier) and isinstance(clf, Explains)


def test_probabilities_are_rows_that_sum_to_one_and_predict_is_pure() -> None:
    clf = _fit(LinearTextClassifier())
    texts = ["bà em khó thở", "tiem vac xin o dau", ""]

    proba = clf.predict_proba(texts)

    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert list(clf.predict(texts)) == list(clf.predict(texts))
    assert clf.predict_proba([]).shape == (0, 3)


@pytest.mark.parametrize(("text", "label"), [
    ("mẹ em khó thở", "medical"), ("me em kho tho", "medical"),
    ("đăng ký tiêm vắc xin", "vaccination"), ("dang ky tiem vac xin", "vaccination"),
    ("hết gạo, chợ đóng cửa", "food_supply"), ("het gao cho dong cua", "food_supply"),
])
def test_tiny_model_separates_clear_examples_with_and_without_diacritics(text: str, label: str) -> None:
    assert _fit(LinearTextClassifier()).predict([text])[0] == label


def test_explain_names_words_of_the_text_as_written() -> None:
    clf = _fit(LinearTextClassifier())

    [reasons] = clf.explain(["Mẹ em khó thở"])
    [typed] = clf.explain(["me e kho tho"])

    assert reasons and all(r in "Mẹ em khó thở" for r in reasons)  # with diacritics, never "kho tho"
    assert typed and all(r in "me e kho tho" for r in typed)


def test_training_on_copies_without_diacritics_keeps_scores_close() -> None:
    texts = [t for t, _ in TINY]
    clf = _fit(LinearTextClassifier())

    with_marks, without = clf.predict_proba(texts), clf.predict_proba([fold(t) for t in texts])

    assert abs(with_marks - without).max(axis=1).mean() <= 0.10
    assert list(clf.predict(texts)) == list(clf.predict([fold(t) for t in texts]))


@pytest.mark.parametrize(("X", "y", "message"), [
    (["a", "b"], ["x"], "2 texts but y has 1"),
    (["a", "b"], ["x", "x"], "at least two distinct labels"),
])
def test_fit_rejects_unusable_training_data(X: list[str], y: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LinearTextClassifier().fit(X, y)


URGENT = [("hỏi giờ làm việc", "normal"), ("xin giấy đi đường", "normal"), ("cho hỏi thủ tục", "normal"),
          ("nhà hết gạo hôm nay", "high"), ("cần thuốc gấp hôm nay", "high"), ("bé sốt cần khám hôm nay", "high"),
          ("người nhà bất tỉnh", "emergency"), ("có người cầm dao", "emergency"), ("ông bị ngất", "emergency")]


def test_urgency_rules_overrule_a_model_that_never_saw_the_phrase() -> None:
    clf = UrgencyClassifier().fit([t for t, _ in URGENT], [y for _, y in URGENT])

    assert list(clf.predict(["hỏi giờ làm việc, mà bà em spo2 còn 85", "hoi gio lam viec ma ba em kho tho"])) \
        == ["emergency", "emergency"]
    proba = clf.predict_proba(["ba em kho tho"])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert proba[0, list(clf.classes_).index("emergency")] >= clf.rule_floor


def test_urgency_reasons_start_with_the_matched_rule() -> None:
    clf = UrgencyClassifier().fit([t for t, _ in URGENT], [y for _, y in URGENT])

    [reasons] = clf.explain(["me em kho tho qua"])

    assert reasons[0] == "quy tắc: khó thở"


def test_urgency_rejects_unknown_labels() -> None:
    with pytest.raises(ValueError, match="unknown urgency labels"):
        UrgencyClassifier().fit(["a", "b"], ["urgent", "normal"])


@pytest.mark.parametrize("make", [lambda: _fit(LinearTextClassifier()),
                                  lambda: UrgencyClassifier().fit([t for t, _ in URGENT], [y for _, y in URGENT])])
def test_explain_proba_is_predict_proba_and_explain_in_one_pass(make: object) -> None:
    clf = make()  # type: ignore[operator]
    texts = ["hỏi giờ làm việc, mà bà em spo2 còn 85", "khu pho em bi phong toa het gao", "ông bị ngất"]

    proba, reasons = clf.explain_proba(texts)

    np.testing.assert_allclose(proba, clf.predict_proba(texts))
    assert reasons == clf.explain(texts)
    assert any(reasons)
    empty_proba, empty_reasons = clf.explain_proba([])
    assert empty_proba.shape == (0, len(clf.classes_)) and empty_reasons == []


def test_models_fitted_on_one_corpus_share_features_and_explain_a_batch_as_one_at_a_time() -> None:
    texts = [t for t, _ in URGENT]
    category = LinearTextClassifier().fit(texts, ["medical" if y == "emergency" else "other" for _, y in URGENT])
    urgency = UrgencyClassifier().fit(texts, [y for _, y in URGENT])
    other = _fit(LinearTextClassifier())
    probes = ["hỏi giờ làm việc, mà bà em spo2 còn 85", "khu pho em bi phong toa het gao", "ông bị ngất",
              "cần thuốc gấp hôm nay cho bé sốt", "có người cầm dao ở chợ"]

    models: list[LinearTextClassifier | UrgencyClassifier] = [category, urgency, other]

    shared = explain_proba_all(models, probes)

    assert category.features_key == urgency.features_key != other.features_key
    for model, (proba, reasons) in zip(models, shared):
        alone_proba, alone_reasons = model.explain_proba(probes)
        np.testing.assert_array_equal(proba, alone_proba)
        assert reasons == alone_reasons
        # the vectorised reasons of a batch are those of each text on its own
        assert reasons == [model.explain_proba([text])[1][0] for text in probes]
    assert any(reasons for _, reasons in shared)
