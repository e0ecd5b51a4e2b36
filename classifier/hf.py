"""A fine-tuned transformers model behind the same `TextClassifier` protocol as the scikit-learn models.

Optional backend: it needs the ``hf`` extra (torch, transformers). Training a transformer happens offline,
outside this package; here a saved sequence-classification directory (``save_pretrained`` output) is bound
and served. Nothing is ever fetched from the Hugging Face hub: every load is ``local_files_only=True``.
"""
from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Self

import numpy as np
import numpy.typing as npt
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted
from transformers import (AutoModelForSequenceClassification, AutoTokenizer, PreTrainedModel,
                          PreTrainedTokenizerBase)

log = logging.getLogger(__name__)


# Mixin first: sklearn reads tags along the MRO, and with BaseEstimator first `is_classifier` is False.
class TransformerTextClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A saved sequence-classification model, exposed as a fitted scikit-learn classifier over raw texts.

    ``fit`` does not train. Fine-tuning a transformer is an offline job; ``fit`` binds the saved artifact
    (model, tokenizer, label names) so that the object then behaves like any fitted sklearn classifier:
    ``clone`` gives an unfitted copy, and ``predict`` before ``fit`` raises ``NotFittedError``.

    Parameters
    ----------
    model_dir : str
        Local directory written by ``save_pretrained`` for both the model and its tokenizer.
    batch_size : int, default=16
        Texts per forward pass.
    max_length : int, default=256
        Longest input in tokens; longer texts are truncated. Capped at what the model itself accepts.
    device : str, default="cpu"
        Torch device for inference.
    normalise : bool, default=True
        Apply the project's Vietnamese normalisation (``classifier.text.clean``) before tokenising, as the
        training pipeline did; a text typed in decomposed Unicode or with old-style tone marks would otherwise
        tokenise differently from its training twin.

    Attributes
    ----------
    model_ : transformers.PreTrainedModel
        The loaded model, in eval mode, on ``device``.
    tokenizer_ : transformers.PreTrainedTokenizerBase
        The tokenizer saved alongside the model.
    classes_ : ndarray of shape (n_classes,)
        Label names from ``config.id2label``, in id order (the column order of ``predict_proba``).
    max_length_ : int
        The truncation length actually used.
    """

    def __init__(self, model_dir: str, *, batch_size: int = 16, max_length: int = 256, device: str = "cpu",
                 normalise: bool = True) -> None:
        self.model_dir = model_dir
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.normalise = normalise

    def fit(self, X: object = None, y: object = None) -> Self:
        """Load the model, tokenizer and label names from `model_dir`; no training happens. Returns self."""
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size!r}")
        if self.max_length < 1:
            raise ValueError(f"max_length must be >= 1, got {self.max_length!r}")
        path = Path(self.model_dir)
        if not path.is_dir():
            raise FileNotFoundError(f"transformer model directory not found (or not a directory): {path}")
        if not (path / "config.json").is_file():
            raise ValueError(f"{path} is not a saved transformers model (no config.json)")
        # Without its tokenizer files, AutoTokenizer quietly builds a default tokenizer for the architecture,
        # and the model then classifies token ids it was never trained on.
        if not (path / "tokenizer_config.json").is_file():
            raise ValueError(f"{path} has no saved tokenizer (no tokenizer_config.json)")
        try:
            tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
            model = AutoModelForSequenceClassification.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError) as err:
            raise ValueError(f"{path} is not a loadable sequence-classification model: {err}") from err

        id2label: dict[int, str] = dict(model.config.id2label)
        if sorted(id2label) != list(range(len(id2label))):
            raise ValueError(f"{path}: config.id2label ids must be 0..n-1, got {sorted(id2label)}")
        self._limit_threads()
        self.model_: PreTrainedModel = model.to(torch.device(self.device)).eval()
        self.tokenizer_: PreTrainedTokenizerBase = tokenizer
        self.classes_: npt.NDArray[Any] = np.array([id2label[i] for i in range(len(id2label))], dtype=object)
        self.max_length_ = _usable_length(self.max_length, tokenizer, model)
        log.info("loaded transformer classifier model_dir=%s classes=%s device=%s", path,
                 list(self.classes_), self.device)
        return self

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        """An (n_texts, n_classes) array of class probabilities; each row sums to 1."""
        check_is_fitted(self)
        texts = self._prepare(texts)
        out = np.empty((len(texts), len(self.classes_)), dtype=np.float64)
        device = torch.device(self.device)
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                batch = self.tokenizer_(texts[start:start + self.batch_size], padding=True, truncation=True,
                                        max_length=self.max_length_, return_tensors="pt").to(device)
                logits = self.model_(**batch).logits
                # softmax in float64 so that rows sum to 1 to the precision callers compare with
                out[start:start + len(logits)] = torch.softmax(logits.double(), dim=-1).cpu().numpy()
        return out

    def predict(self, texts: Sequence[str]) -> npt.NDArray[Any]:
        """The most probable label of each text."""
        proba = self.predict_proba(texts)
        labels: npt.NDArray[Any] = self.classes_[np.argmax(proba, axis=1)]
        return labels

    def explain(self, texts: Sequence[str], labels: Sequence[str] | None = None, *,
                top: int = 3) -> list[list[str]]:
        """The model's probability for each text's label, as ``["transformer: 0.93"]``.

        A fine-tuned transformer has no cheap, faithful per-word attribution, so this reports only the
        confidence rather than invent reasons; ``top`` is accepted for the protocol and has no effect.
        """
        proba = self.predict_proba(texts)
        if labels is None:
            columns = np.argmax(proba, axis=1)
        else:
            if len(labels) != len(proba):
                raise ValueError(f"got {len(labels)} labels for {len(proba)} texts")
            index = {label: i for i, label in enumerate(self.classes_)}
            unknown = sorted({str(label) for label in labels if label not in index})
            if unknown:
                raise ValueError(f"unknown labels {unknown}; classes are {list(self.classes_)}")
            columns = np.array([index[label] for label in labels], dtype=np.intp)
        return [[f"transformer: {p:.2f}"] for p in proba[np.arange(len(proba)), columns]]

    def explain_proba(self, texts: Sequence[str], *, top: int = 3) -> tuple[npt.NDArray[np.float64], list[list[str]]]:
        """`predict_proba` and `explain` for the predicted labels from one forward pass."""
        proba = self.predict_proba(texts)
        return proba, [[f"transformer: {p:.2f}"] for p in proba.max(axis=1)] if len(proba) else []

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    def _prepare(self, texts: Sequence[str]) -> list[str]:
        """Validate the input and apply the project's normalisation when asked to."""
        # a bare string is a Sequence[str] too, and would be classified one character at a time
        if isinstance(texts, str):
            raise TypeError("expected a sequence of texts, got a single str; wrap it in a list")
        prepared = [str(text) for text in texts]
        if self.normalise:
            # imported here so the module loads without the text pipeline's dependencies; a failure is a bug
            from classifier.text import clean
            prepared = [clean(text) for text in prepared]
        return prepared

    @staticmethod
    def _limit_threads() -> None:
        """Keep torch's intra-op threads within the CPUs this process may run on.

        torch sizes its pool from the host's cores, which in a container limited by CPU affinity
        oversubscribes and slows every request. Only ever lowers the count, and only at load time.
        """
        allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        if torch.get_num_threads() > allowed:
            log.info("limiting torch intra-op threads from %s to %s", torch.get_num_threads(), allowed)
            torch.set_num_threads(allowed)


def _usable_length(requested: int, tokenizer: PreTrainedTokenizerBase, model: PreTrainedModel) -> int:
    """The truncation length: `requested`, capped by the tokenizer's and the model's position limits."""
    # Tokenizers saved without a limit report a huge sentinel (about 1e30), hence the model's own cap too.
    limits = [requested, int(min(tokenizer.model_max_length, 2**31))]
    positions = getattr(model.config, "max_position_embeddings", None)
    if isinstance(positions, int):
        limits.append(positions)
    return min(limits)
