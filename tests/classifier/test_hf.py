"""The transformers backend, tested through the `TextClassifier` protocol on a tiny model built here.

The model is a two-layer BERT with a word-level tokenizer, fine-tuned for a hundred full-batch steps on twenty
Vietnamese hotline messages. It is built once per module, offline, in a temporary directory.
"""
from __future__ import annotations

import re
import shutil
import socket
import unicodedata
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pytest
import torch
from sklearn.base import clone, is_classifier
from sklearn.exceptions import NotFittedError
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast

from classifier.hf import TransformerTextClassifier
from classifier.protocols import Explains, TextClassifier

# Ids deliberately out of alphabetical order, so that a test can tell id order from sorted order.
ID2LABEL = {0: "normal", 1: "emergency", 2: "misinformation_report"}
EXAMPLES = {
    "emergency": [
        "bố tôi khó thở cần cấp cứu ngay",
        "mẹ tôi ngất xỉu khó thở gọi xe cấp cứu",
        "có người bị tai nạn chảy máu nhiều",
        "tai nạn giao thông cần xe cấp cứu gấp",
        "em bé sốt cao co giật cần cấp cứu",
        "người già khó thở tím tái",
        "cháy nhà có người mắc kẹt",
    ],
    "normal": [
        "cho hỏi giờ làm việc của phường",
        "xin hỏi giờ làm việc buổi chiều",
        "bộ phận một cửa làm việc thứ bảy không",
        "thủ tục làm căn cước cần giấy tờ gì",
        "đăng ký khai sinh cho con ở đâu",
        "hỏi thủ tục cấp giấy phép xây dựng",
        "giờ làm việc ngày lễ thế nào",
    ],
    "misinformation_report": [
        "nghe nói uống nước muối chữa được bệnh",
        "tin đồn vắc xin gây vô sinh có đúng không",
        "có tin nhắn nói ngân hàng sắp phá sản",
        "video trên mạng nói nước máy bị nhiễm độc",
        "trên mạng đồn sắp đóng cửa toàn tỉnh",
        "nghe đồn ăn tỏi chữa được cúm",
    ],
}
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
MAX_POSITIONS = 64
TRAINING_STEPS = 100


def make_tokenizer(corpus: list[str]) -> PreTrainedTokenizerFast:
    """A lower-casing, whitespace word-level tokenizer over `corpus`, wrapped for transformers."""
    # No NFC step in the tokenizer: Unicode normalisation is the wrapper's job, and a test checks it does it.
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(special_tokens=SPECIAL_TOKENS))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    return PreTrainedTokenizerFast(  # type: ignore[no-untyped-call]
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]")


def make_tiny_model(directory: Path) -> None:
    """Fine-tune a tiny BERT on `EXAMPLES` and save it, with its tokenizer, to `directory`."""
    # Trained on cleaned texts, as the offline training job does, so that inference sees the same forms.
    from classifier.text import clean

    label2id = {label: i for i, label in ID2LABEL.items()}
    texts = [clean(text) for label in EXAMPLES for text in EXAMPLES[label]]
    targets = torch.tensor([label2id[label] for label in EXAMPLES for _ in EXAMPLES[label]])
    tokenizer = make_tokenizer(texts)
    # BERT's default init (std 0.02) often collapses a model this small to predicting the class prior; a wider
    # init separated the classes for every one of 48 seeds tried. No dropout, so that 100 steps memorise.
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=MAX_POSITIONS, initializer_range=0.2,
                        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                        pad_token_id=tokenizer.pad_token_id, id2label=ID2LABEL, label2id=label2id)
    # fork_rng keeps the fixed seed from leaking into the global RNG other tests see
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = BertForSequenceClassification(config)
        batch = tokenizer(texts, padding=True, return_tensors="pt")
        optimiser = torch.optim.AdamW(model.parameters(), lr=2e-3)
        model.train()
        for _ in range(TRAINING_STEPS):
            optimiser.zero_grad()
            loss = model(**batch, labels=targets).loss
            loss.backward()
            optimiser.step()
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)


@pytest.fixture(scope="module", autouse=True)
def offline() -> Iterator[None]:
    """Every test here runs with the hub switched off."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        mp.setenv("TRANSFORMERS_OFFLINE", "1")
        yield


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Run torch single-threaded here, restoring the setting afterwards.

    On a busy 2-core machine torch's thread pool spins against other processes: training this model took
    0.1 s on one thread and up to 30 s on two.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model, built once for the module."""
    directory = tmp_path_factory.mktemp("tiny-bert")
    make_tiny_model(directory)
    return directory


@pytest.fixture(scope="module")
def clf(model_dir: Path) -> TransformerTextClassifier:
    """A fitted classifier over the tiny model."""
    return TransformerTextClassifier(str(model_dir)).fit()


def test_implements_the_classifier_protocols(clf: TransformerTextClassifier) -> None:
    assert isinstance(clf, TextClassifier)
    assert isinstance(clf, Explains)
    assert is_classifier(clf)


def test_classes_come_from_id2label_in_id_order(clf: TransformerTextClassifier) -> None:
    assert list(clf.classes_) == ["normal", "emergency", "misinformation_report"]


def test_predict_proba_rows_are_distributions(clf: TransformerTextClassifier) -> None:
    proba = clf.predict_proba(["khó thở", "giờ làm việc", "tin đồn"])
    assert proba.shape == (3, 3)
    assert proba.dtype == np.float64
    assert (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)


@pytest.mark.parametrize("label", list(EXAMPLES))
def test_predicts_the_label_of_training_like_texts(clf: TransformerTextClassifier, label: str) -> None:
    assert list(clf.predict(EXAMPLES[label])) == [label] * len(EXAMPLES[label])


@pytest.mark.parametrize(("text", "label"), [
    ("ông tôi khó thở cần cấp cứu", "emergency"),
    ("cho hỏi giờ làm việc thứ bảy", "normal"),
])
def test_predicts_unseen_phrasings_of_the_obvious_classes(clf: TransformerTextClassifier, text: str,
                                                          label: str) -> None:
    assert clf.predict([text])[0] == label


def test_batching_does_not_change_probabilities(model_dir: Path, clf: TransformerTextClassifier) -> None:
    texts = [text for examples in EXAMPLES.values() for text in examples]
    small_batches = TransformerTextClassifier(str(model_dir), batch_size=3).fit()
    np.testing.assert_allclose(small_batches.predict_proba(texts), clf.predict_proba(texts), atol=1e-6)


def test_decomposed_unicode_is_normalised_before_tokenising(clf: TransformerTextClassifier) -> None:
    text = "bố tôi khó thở cần cấp cứu ngay"
    decomposed = unicodedata.normalize("NFD", text)
    assert decomposed != text
    np.testing.assert_allclose(clf.predict_proba([decomposed]), clf.predict_proba([text]), atol=1e-9)


def test_concurrent_predictions_agree_with_serial_ones(clf: TransformerTextClassifier) -> None:
    # the service calls predict from asyncio.to_thread, so one fitted model serves many threads at once
    texts = [text for examples in EXAMPLES.values() for text in examples]
    expected = list(clf.predict(texts))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: list(clf.predict(texts)), range(32)))
    assert results == [expected] * 32


def test_normalise_false_passes_texts_through_untouched(model_dir: Path,
                                                        clf: TransformerTextClassifier) -> None:
    # decomposed Unicode then misses the vocabulary, which is why normalisation is on by default
    decomposed = unicodedata.normalize("NFD", "bố tôi khó thở cần cấp cứu ngay")
    raw = TransformerTextClassifier(str(model_dir), normalise=False).fit()
    assert not np.allclose(raw.predict_proba([decomposed]), clf.predict_proba([decomposed]), atol=1e-3)


def test_texts_without_diacritics_do_not_crash(clf: TransformerTextClassifier) -> None:
    labels = clf.predict(["bo toi kho tho can cap cuu", "cho hoi gio lam viec", ""])
    assert set(labels) <= set(clf.classes_)


def test_texts_longer_than_the_model_are_truncated(clf: TransformerTextClassifier) -> None:
    assert clf.max_length_ == MAX_POSITIONS
    proba = clf.predict_proba(["khó thở " * 500])
    assert proba.shape == (1, 3)


def test_empty_input_gives_an_empty_table(clf: TransformerTextClassifier) -> None:
    assert clf.predict_proba([]).shape == (0, 3)
    assert clf.predict([]).shape == (0,)


def test_a_bare_string_is_rejected(clf: TransformerTextClassifier) -> None:
    with pytest.raises(TypeError, match="single str"):
        clf.predict("khó thở")


def test_explain_reports_only_the_model_confidence(clf: TransformerTextClassifier) -> None:
    texts = ["bố tôi khó thở cần cấp cứu ngay", "cho hỏi giờ làm việc của phường"]
    proba = clf.predict_proba(texts)
    assert clf.explain(texts) == [[f"transformer: {row.max():.2f}"] for row in proba]
    assert clf.explain(texts, ["normal", "normal"]) == [[f"transformer: {row[0]:.2f}"] for row in proba]
    both, reasons = clf.explain_proba(texts)
    np.testing.assert_allclose(both, proba)
    assert reasons == clf.explain(texts)


def test_explain_rejects_unknown_labels(clf: TransformerTextClassifier) -> None:
    with pytest.raises(ValueError, match="unknown labels"):
        clf.explain(["khó thở"], ["reliable"])


def test_clone_is_unfitted_and_refuses_to_predict(clf: TransformerTextClassifier) -> None:
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        copy.predict(["khó thở"])
    assert list(copy.fit().predict(["bố tôi khó thở cần cấp cứu ngay"])) == ["emergency"]


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(FileNotFoundError, match="no-such-model"):
        TransformerTextClassifier(str(missing)).fit()


def test_a_directory_without_a_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=re.escape(str(tmp_path))):
        TransformerTextClassifier(str(tmp_path)).fit()


def test_a_model_saved_without_its_tokenizer_is_a_clear_error(model_dir: Path, tmp_path: Path) -> None:
    for name in ("config.json", "model.safetensors"):
        shutil.copy(model_dir / name, tmp_path)
    with pytest.raises(ValueError, match="no saved tokenizer"):
        TransformerTextClassifier(str(tmp_path)).fit()


@pytest.mark.parametrize("params", [{"batch_size": 0}, {"max_length": 0}])
def test_fit_rejects_bad_parameters(model_dir: Path, params: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(params))):
        TransformerTextClassifier(str(model_dir), **params).fit()


def test_loading_and_inference_never_touch_the_network(model_dir: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError(f"network access attempted: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    clf = TransformerTextClassifier(str(model_dir)).fit()
    assert clf.predict(["bố tôi khó thở cần cấp cứu ngay"])[0] == "emergency"
