"""Misinformation classifier: probability that a social post is unreliable, from its text and metadata.

Trained on ReINTEL (VLSP 2020 shared task "Reliable Intelligence Identification on Vietnamese SNSs").
The data set is read from the path the caller passes to `load_reintel`; it is never copied into the
repository.
"""

from __future__ import annotations

import csv
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from os import PathLike
from typing import Any, Final, Self

import numpy as np
from numpy.typing import NDArray
from pyvi import ViTokenizer
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from hotline.kernel.records import LOCAL_TZ
from classifier.spans import as_written
from classifier.text import clean, fold_chars

__all__ = ["MisinformationClassifier", "PostFeatures", "load_reintel", "metadata_names", "signal_text"]

# Vietnam has a single time zone and no daylight saving time.

# ReINTEL replaced links, phone numbers and e-mail addresses by placeholders; live posts contain the real
# thing. Both forms map to one token so that training and production text look alike.
_URL_RE: Final = re.compile(r"<URL>|https?://\S+|www\.\S+", re.IGNORECASE)
_PHONE_RE: Final = re.compile(r"<PHONE>|(?<!\d)(?:\+84|0)(?:[\s.]?\d){8,10}(?!\d)", re.IGNORECASE)
_EMAIL_RE: Final = re.compile(r"<EMAIL>|[\w.+-]+@[\w-]+\.[\w.]+", re.IGNORECASE)
_LEADING_NUMBER_RE: Final = re.compile(r"\s*(\d+(?:\.\d+)?)")
_NUMBER_RE: Final = re.compile(r"\s*-?\d+(?:\.\d+)?\s*")

_TEXT_SCORE: Final = "text_score"
_AUTHOR_POSTS: Final = "author_posts"


@dataclass(frozen=True, slots=True)
class PostFeatures:
    """One social post as the classifier sees it; any metadata may be unknown (None)."""

    text: str
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    posted_at: datetime | None = None
    author: str | None = None


@lru_cache(maxsize=8192)
def _prepare_text(text: str) -> str:
    """Return NFC, lower-cased, pyvi-segmented text with links, phones and e-mails as placeholder tokens.

    The text form of ``text_features="segmented"`` (misinformation.v1); cached because cross-validation
    segments the same posts many times and pyvi dominates the cost.
    """
    text = unicodedata.normalize("NFC", text)
    text = _URL_RE.sub(" urltoken ", text)
    text = _EMAIL_RE.sub(" emailtoken ", text)
    text = _PHONE_RE.sub(" phonetoken ", text)
    return str(ViTokenizer.tokenize(text.lower()))


@lru_cache(maxsize=8192)
def _fold_text(text: str) -> str:
    """Return the lower-cased, accent-folded text with links, phones and e-mails as placeholder tokens.

    The text form of ``text_features="folded"``: a post and its copy typed without diacritics get the same
    form, hence the same text score (issue 12: one post scored 11 % without diacritics, 62-85 % with them).
    """
    text = fold_chars(clean(text)).lower()
    text = _URL_RE.sub(" urltoken ", text)
    text = _EMAIL_RE.sub(" emailtoken ", text)
    return _PHONE_RE.sub(" phonetoken ", text)


# Concrete signals a reviewer can check, matched on `fold_chars` text (offsets are those of the post).
# A post that cites nobody: no link, no "theo ...", no agency, paper or spokesperson.
SOURCE_CUES: Final = re.compile(
    r"<url>|https?://|www\.|\btheo (?:bo|so|bao|tin|thong tin|nguon|ubnd|cong an|who|cdc|reuters|ttxvn|afp|"
    r"vtv|thong bao|bao cao|ket qua|chi thi|quyet dinh|cong van)|\bnguon\s*:|\bnguon tin\b|"
    r"\b(?:bo y te|so y te|ubnd|bo cong an|ttxvn|thong tan xa|vtv|vnexpress|tuoi tre|thanh nien|reuters|"
    r"cdc|who|chinh phu|ban chi dao|phat ngon vien|cong van|quyet dinh so|chi thi)\b|\bcho biet\b|"
    r"\bthong bao\b|\bbao cao\b")
# Asking readers to spread the post, urgently or before it is "deleted".
SHARE_PLEAS: Final = re.compile(
    r"\b(?:chia se|share|lan truyen|chuyen tiep|gui|phat tan)\s+(?:ngay|gap|lien|rong rai|nhanh|cho (?:moi nguoi|"
    r"nguoi than|ban be|gia dinh|tat ca|nhieu nguoi))|\b(?:hay|nho|vui long|moi nguoi|ae|anh em)\s+"
    r"(?:chia se|share|lan truyen)|\bkeo (?:bi )?(?:xoa|muon|go)|\btruoc khi (?:bi )?(?:xoa|go)|"
    r"\bkhan cap\b|\btin mat\b|\btin noi bo\b|\bbi che giau\b|\bkhong muon (?:ban|ai|moi nguoi) biet")


def _parse_count(raw: str | None) -> int | None:
    """Return the leading number of a raw count ("54", "306.0", "1 share"), or None ("", "unknown")."""
    if raw is None:
        return None
    match = _LEADING_NUMBER_RE.match(raw)
    return int(float(match.group(1))) if match else None


def _parse_timestamp(raw: str) -> datetime | None:
    """Return the aware UTC datetime of a unix timestamp string, or None if blank or not a number."""
    if not _NUMBER_RE.fullmatch(raw):
        return None
    return datetime.fromtimestamp(float(raw), tz=timezone.utc)


def _looks_numeric(raw: str) -> bool:
    """Whether a raw field belongs in a numeric column: a number, blank or ReINTEL's "unknown"."""
    return raw.strip() in ("", "unknown") or _NUMBER_RE.fullmatch(raw) is not None


def _realign(fields: list[str]) -> list[str]:
    """Repair a row whose message was split on commas into the timestamp and count columns.

    A handful of ReINTEL rows look like ``message-part, message-part, 1592283607, 4, 0.0``: the text spills
    into ``timestamp_post`` and the numbers shift right. The spilled parts are joined back into the message
    and the numbers are read from the first numeric-looking field on.
    """
    message, rest = fields[0], fields[1:]
    if _looks_numeric(rest[0]):
        return fields
    spill = 0
    while spill < len(rest) and not _looks_numeric(rest[spill]):
        spill += 1
    numbers = rest[spill:] + [""] * spill
    return [",".join([message, *rest[:spill]]), *numbers]


def load_reintel(path: str | PathLike[str]) -> tuple[list[PostFeatures], NDArray[np.int64]]:
    """Read a ReINTEL CSV (id, user_name, post_message, timestamp_post, counts, label) into posts and labels.

    Blank, ``unknown`` or malformed counts and timestamps become None; "54 like" reads as 54.
    """
    posts: list[PostFeatures] = []
    labels: list[int] = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            fields = [
                row["post_message"] or "",
                row["timestamp_post"] or "",
                row["num_like_post"] or "",
                row["num_comment_post"] or "",
                row["num_share_post"] or "",
            ]
            message, timestamp, likes, comments, shares = _realign(fields)
            posts.append(
                PostFeatures(
                    text=message,
                    likes=_parse_count(likes),
                    comments=_parse_count(comments),
                    shares=_parse_count(shares),
                    posted_at=_parse_timestamp(timestamp),
                    author=row["user_name"] or None,
                )
            )
            labels.append(int(row["label"]))
    return posts, np.asarray(labels, dtype=np.int64)


_METADATA_NAMES: Final = (
    "log_likes",
    "log_comments",
    "log_shares",
    "likes_missing",
    "comments_missing",
    "shares_missing",
    "hour",
    "weekday",
    "posted_at_missing",
    "log_chars",
    "log_words",
    "links",
    "phones",
    "hashtags",
    "exclamations",
    "questions",
    "upper_ratio",
    "digit_ratio",
    "lines",
    "symbols",
    "source_cues",
    "share_pleas",
)


def metadata_names() -> tuple[str, ...]:
    """Return the names of the metadata features, in column order."""
    return _METADATA_NAMES


def _metadata_row(post: PostFeatures) -> list[float]:
    """Return the metadata features of one post; unknown values are NaN, which the booster handles."""
    text = post.text
    letters = [c for c in text if c.isalpha()]
    counts = [math.log1p(v) if v is not None else math.nan for v in (post.likes, post.comments, post.shares)]
    missing = [float(v is None) for v in (post.likes, post.comments, post.shares)]
    if post.posted_at is None:
        hour, weekday = math.nan, math.nan
    else:
        # Naive datetimes are taken as Vietnam local time, the hotline's own clock.
        local = post.posted_at.astimezone(LOCAL_TZ) if post.posted_at.tzinfo else post.posted_at
        hour, weekday = float(local.hour), float(local.weekday())
    return [
        *counts,
        *missing,
        hour,
        weekday,
        float(post.posted_at is None),
        math.log1p(len(text)),
        math.log1p(len(text.split())),
        float(len(_URL_RE.findall(text))),
        float(len(_PHONE_RE.findall(text))),
        float(text.count("#")),
        float(text.count("!")),
        float(text.count("?")),
        sum(c.isupper() for c in letters) / max(len(letters), 1),
        sum(c.isdigit() for c in text) / max(len(text), 1),
        float(text.count("\n")),
        float(sum(unicodedata.category(c) == "So" for c in text)),
        *_signals(text),
    ]


def _signals(text: str) -> tuple[float, float]:
    """Source cues and pleas to share, counted on the folded text."""
    folded = fold_chars(clean(text)).lower()
    return float(len(SOURCE_CUES.findall(folded))), float(len(SHARE_PLEAS.findall(folded)))


_TEXT_FORMS: Final = frozenset({"folded", "segmented"})


def _compact(tfidf: Any) -> None:
    """Make a fitted vectoriser (or a FeatureUnion of them) small on disk without changing what it does:
    drop ``stop_words_`` (the terms cut by min_df/max_df, kept only for introspection) and store the
    vocabulary's numpy ints as Python ints (skops writes each numpy int as an object of its own)."""
    for vectoriser in [t for _, t in getattr(tfidf, "transformer_list", [])] or [tfidf]:
        if hasattr(vectoriser, "stop_words_"):
            del vectoriser.stop_words_
        vectoriser.vocabulary_ = {term: int(i) for term, i in vectoriser.vocabulary_.items()}


def _without_context(features: NDArray[np.float64]) -> NDArray[np.float64]:
    """Booster rows with engagement and posting time made unknown."""
    masked = features.copy()
    masked[:, 0:3] = np.nan
    masked[:, 3:6] = 1.0
    masked[:, 6:8] = np.nan
    masked[:, 8] = 1.0
    return masked


def _describe(name: str, value: float) -> str:
    """Return a booster input as a reviewer reads it: counts undo log1p, flags read yes/no."""
    if math.isnan(value):
        return f"{name.removeprefix('log_')} unknown"
    if name.startswith("log_") or name == _AUTHOR_POSTS:
        return f"{name.removeprefix('log_')}={math.expm1(value):.0f}"
    if name.endswith("_missing"):
        return f"{name}={'yes' if value >= 0.5 else 'no'}"
    return f"{name}={value:.2f}"


_WEEKDAYS: Final = ("thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy", "Chủ nhật")
_COUNTS: Final = {"likes": "lượt thích", "comments": "bình luận", "shares": "lượt chia sẻ"}


def signal_text(name: str, value: float, text: str) -> str:
    """A booster input as something a reviewer can check in the post, in Vietnamese ("không dẫn nguồn")."""
    known = not math.isnan(value)
    count = int(round(math.expm1(value))) if known and name.startswith("log_") else int(value) if known else 0
    base = name.removeprefix("log_").removesuffix("_missing")
    if name.endswith("_missing") and base in _COUNTS:
        return f"không rõ số {_COUNTS[base]}" if value >= 0.5 else f"có số {_COUNTS[base]}"
    if base in _COUNTS:
        return f"{count:,} {_COUNTS[base]}".replace(",", ".") if known else f"không rõ số {_COUNTS[base]}"
    if name == "source_cues":
        return "không dẫn nguồn" if value == 0 else f"dẫn nguồn ({count})"
    if name == "share_pleas":
        if value == 0:
            return "không kêu gọi chia sẻ"
        folded = fold_chars(clean(text)).lower()
        match = SHARE_PLEAS.search(folded)
        return f"kêu gọi lan truyền: “{clean(text)[match.start():match.end()]}”" if match else "kêu gọi lan truyền"
    if name in ("hour", "weekday", "posted_at_missing"):
        if name == "posted_at_missing" or not known:
            return "không rõ thời điểm đăng" if value >= 0.5 or not known else "có thời điểm đăng"
        return f"đăng lúc {count} giờ" if name == "hour" else f"đăng vào {_WEEKDAYS[count % 7]}"
    plain = {"exclamations": "dấu chấm than", "questions": "dấu hỏi", "hashtags": "hashtag",
             "links": "đường link", "phones": "số điện thoại", "lines": "dòng", "symbols": "biểu tượng, emoji",
             "chars": "ký tự", "words": "từ", "author_posts": "bài của tác giả"}
    if base in plain:
        return f"{count} {plain[base]}" if count else f"không có {plain[base]}"
    if name == "upper_ratio":
        return f"{value:.0%} chữ in hoa"
    if name == "digit_ratio":
        return f"{value:.0%} là chữ số"
    return name


def _check_posts(posts: Sequence[PostFeatures], *, allow_empty: bool = False) -> list[PostFeatures]:
    """Return the posts as a list, or raise if any item is not a PostFeatures."""
    if isinstance(posts, (str, bytes)) or not isinstance(posts, Sequence):
        raise TypeError(f"expected a sequence of PostFeatures, got {type(posts).__name__}")
    for post in posts:
        if not isinstance(post, PostFeatures):
            raise TypeError(f"expected PostFeatures, got {type(post).__name__}")
    if not posts and not allow_empty:
        raise ValueError("expected at least one post, got none")
    return list(posts)


class MisinformationClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Probability that a Vietnamese social post is unreliable, from its wording and its metadata.

    Two stages, stacked:

    1. **Wording.** TF-IDF over word 1- to 3-grams and ``char_wb`` 2- to 5-grams of the accent-folded,
       lower-cased text (``text_features="folded"``; v1 read pyvi-segmented words with diacritics), fed to an
       L2 logistic regression (``class_weight="balanced"``). Its decision value is the *text score*.
    2. **Context.** A histogram gradient-boosted tree model over the text score plus metadata: log engagement
       counts (likes, comments, shares) with missing-value flags, Vietnam-local hour and weekday, and
       surface statistics of the text (length, links, phone numbers, hashtags, ``!``/``?``, upper-case and
       digit ratios, lines, symbols/emoji). The text score it trains on is *out-of-fold*
       (``n_inner_splits``-fold ``cross_val_predict`` inside ``fit``), so the booster learns how far to
       trust the wording from scores the text model produced without seeing those posts.

    Why this shape: on ReINTEL the wording alone reaches about 0.915 ROC-AUC and the metadata alone about
    0.88, and they fail on different posts; a linear model on sparse n-grams is the strongest text model
    that trains in seconds on 2 CPU cores, while the interactions among engagement, links and text score
    need trees. Stacking raises 5-fold ROC-AUC (3 seeds, near-duplicates grouped) to 0.940 ± 0.007; see
    ``classifier.misinformation_eval.cross_validate_auc``. Issue 12 moved the text to the folded form: a post
    typed without diacritics got 11 % where its accented twin got 62-85 %; folded, both get the same score,
    and on a held-out 20 % of ReINTEL ROC-AUC is 0.937 with metadata, 0.905 on text alone (model card).

    Absolute time (year, date) is deliberately **not** a feature: it predicts the label in ReINTEL (an
    artefact of how the posts were collected, 2014-2020), and every production post lies after that range.
    The author is used only when ``use_author=True``, as the number of the author's posts in the training
    set (leave-one-out for the training rows themselves). It raises ROC-AUC to 0.944, but the signal is
    "a page ReINTEL sampled often is a news page"; ReINTEL authors are hashed with an unknown function, so
    no production author will match and every post would be scored as if from a one-off account. It is off
    by default.

    The booster's log-loss probabilities are used as they are: expected calibration error 0.029 on the
    held-out posts (misinformation.v2), but the base rate of the training data (about 17 % unreliable) need not match
    production's, so treat the probability as a ranking score unless it is recalibrated on local data.

    Parameters
    ----------
    C : float, default=10.0
        Inverse L2 regularisation strength of the text logistic regression.
    text_features : {"folded", "segmented"}, default="folded"
        ``"folded"``: word n-grams and ``char_wb`` n-grams of the accent-folded text, so that a post and its
        copy without diacritics get the same text score; ``"segmented"``: word n-grams of the pyvi-segmented
        text with diacritics (misinformation.v1).
    ngram_range : tuple of (int, int), default=(1, 3)
        Word n-gram range of the TF-IDF vectoriser.
    char_ngram_range : tuple of (int, int), default=(2, 5)
        Character n-gram range (``text_features="folded"`` only).
    min_df : int, default=2
        Minimum number of training posts an n-gram must occur in.
    metadata_dropout : float, default=0.0
        Share of the training posts copied once more with engagement and time unknown, so that the booster
        learns how far the wording alone goes (news articles and forwarded messages come without them).
    use_author : bool, default=False
        Whether to add the author's post count in the training data as a feature.
    n_inner_splits : int, default=5
        Folds used to produce the out-of-fold text score the booster is trained on.
    learning_rate : float, default=0.05
        Learning rate of the booster.
    max_iter : int, default=300
        Boosting iterations.
    max_depth : int or None, default=3
        Maximum depth of each tree of the booster; shallow trees generalised best in cross-validation.
    min_samples_leaf : int, default=20
        Minimum posts per leaf of the booster.
    l2_regularization : float, default=5.0
        L2 regularisation of the booster's leaf values.
    random_state : int or None, default=0
        Seed for the inner folds and the booster.
    threshold : float, default=0.5
        The probability from which ``predict`` says unreliable. Training sets it to the flag threshold chosen
        on out-of-fold probabilities (``hotline train misinformation``; see the model card).

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        ``[0, 1]``: 0 reliable, 1 unreliable.
    text_model_ : Pipeline
        The TF-IDF + logistic regression pipeline, fitted on all training posts.
    booster_ : HistGradientBoostingClassifier
        The booster over metadata and the out-of-fold text score.
    feature_names_ : tuple of str
        Names of the booster's input columns, in order.
    reference_ : ndarray of shape (n_booster_features,)
        Median of each booster input over the training posts; ``top_reasons`` compares against it.
    author_posts_ : dict of str to int
        Posts per author in the training data (empty unless ``use_author``).

    Examples
    --------
    >>> posts, y = load_reintel("../shared/data/reintel/train.csv")  # doctest: +SKIP
    >>> model = MisinformationClassifier().fit(posts, y)  # doctest: +SKIP
    >>> model.predict_proba(posts[:1])[:, 1]  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        C: float = 10.0,
        text_features: str = "folded",
        ngram_range: tuple[int, int] = (1, 3),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        metadata_dropout: float = 0.0,
        use_author: bool = False,
        n_inner_splits: int = 5,
        learning_rate: float = 0.05,
        max_iter: int = 300,
        max_depth: int | None = 3,
        min_samples_leaf: int = 20,
        l2_regularization: float = 5.0,
        random_state: int | None = 0,
        threshold: float = 0.5,
    ) -> None:
        self.C = C
        self.text_features = text_features
        self.ngram_range = ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.metadata_dropout = metadata_dropout
        self.use_author = use_author
        self.n_inner_splits = n_inner_splits
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.threshold = threshold

    def __sklearn_tags__(self) -> Tags:
        """Declare that X is a sequence of records, not a 2-D array."""
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.target_tags.required = True
        return tags

    def fit(self, X: Sequence[PostFeatures], y: Any) -> Self:
        """Fit the text model, then the booster on metadata and the out-of-fold text score.

        Parameters
        ----------
        X : sequence of PostFeatures
            Training posts.
        y : array-like of shape (n_posts,)
            1 for unreliable, 0 for reliable.

        Returns
        -------
        self : MisinformationClassifier
            The fitted classifier.
        """
        posts = _check_posts(X)
        labels = column_or_1d(y, warn=True)
        check_classification_targets(labels)
        if len(labels) != len(posts):
            raise ValueError(f"X has {len(posts)} posts but y has {len(labels)} labels")
        if set(np.unique(labels).tolist()) != {0, 1}:
            raise ValueError(f"y must contain both labels 0 and 1, got {np.unique(labels).tolist()}")
        labels = labels.astype(np.int64)

        if self.text_features not in _TEXT_FORMS:
            raise ValueError(f"text_features must be one of {sorted(_TEXT_FORMS)}, got {self.text_features!r}")
        texts = self._texts(posts)
        text_model = self._make_text_model()
        inner = StratifiedKFold(self.n_inner_splits, shuffle=True, random_state=self.random_state)
        oof_score = cross_val_predict(text_model, texts, labels, cv=inner, method="decision_function")
        text_model.fit(texts, labels)
        _compact(text_model.named_steps["tfidf"])

        author_posts: dict[str, int] = {}
        if self.use_author:
            author_posts = dict(Counter(post.author for post in posts if post.author is not None))
        self.author_posts_ = author_posts
        # Leave-one-out: a training post does not count itself, so training rows look like unseen posts do.
        features = self._stack(posts, oof_score, leave_one_out=True)
        fit_features, fit_labels = features, labels
        if self.metadata_dropout > 0:
            # Copies of a share of the posts with engagement and time unknown, so that the booster has seen
            # how far the wording alone goes: a news article or a forwarded message comes without them.
            rng = np.random.default_rng(self.random_state)
            chosen = rng.random(len(posts)) < self.metadata_dropout
            fit_features = np.vstack([features, _without_context(features[chosen])])
            fit_labels = np.concatenate([labels, labels[chosen]])

        booster = HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_depth=self.max_depth,
            min_samples_leaf=self.min_samples_leaf,
            l2_regularization=self.l2_regularization,
            early_stopping=False,
            random_state=self.random_state,
        )
        booster.fit(fit_features, fit_labels)

        self.classes_ = np.array([0, 1])
        self.text_model_ = text_model
        self.booster_ = booster
        names = [*_METADATA_NAMES, _TEXT_SCORE]
        if self.use_author:
            names.append(_AUTHOR_POSTS)
        self.feature_names_ = tuple(names)
        self.reference_ = np.nanmedian(features, axis=0)
        return self

    def predict_proba(self, X: Sequence[PostFeatures]) -> NDArray[np.float64]:
        """Return class probabilities, shape (n_posts, 2); column 1 is the probability of unreliable.

        Parameters
        ----------
        X : sequence of PostFeatures
            Posts to score.

        Returns
        -------
        proba : ndarray of shape (n_posts, 2)
            Probabilities of reliable (column 0) and unreliable (column 1).
        """
        check_is_fitted(self)
        posts = _check_posts(X, allow_empty=True)
        if not posts:
            return np.empty((0, 2), dtype=np.float64)
        proba: NDArray[np.float64] = self.booster_.predict_proba(self._features(posts))
        return proba

    def predict(self, X: Sequence[PostFeatures]) -> NDArray[np.int64]:
        """Return 1 for posts whose probability of being unreliable is at least ``threshold``, else 0.

        Parameters
        ----------
        X : sequence of PostFeatures
            Posts to label.

        Returns
        -------
        labels : ndarray of shape (n_posts,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[(proba[:, 1] >= self.threshold).astype(np.int64)]

    def decision_function(self, X: Sequence[PostFeatures]) -> NDArray[np.float64]:
        """Return the log-odds of unreliable, shape (n_posts,).

        Parameters
        ----------
        X : sequence of PostFeatures
            Posts to score.

        Returns
        -------
        scores : ndarray of shape (n_posts,)
            Log-odds that each post is unreliable.
        """
        check_is_fitted(self)
        posts = _check_posts(X, allow_empty=True)
        if not posts:
            return np.empty(0, dtype=np.float64)
        scores: NDArray[np.float64] = self.booster_.decision_function(self._features(posts))
        return scores

    def top_reasons(self, post: PostFeatures, *, n: int = 5, label: int = 1) -> list[str]:
        """Return short reasons why the model leans towards ``label`` (1 unreliable, 0 reliable) for a post.

        Two simple views, not a full attribution:

        * **context:** each booster input (a metadata feature or the text score) is reset, alone, to its
          training median; the reason says how much the probability moves back. Interactions between
          inputs are not split out, and a missing value counts as a value of its own.
        * **wording:** the n-grams with the largest contribution (TF-IDF weight times coefficient) to the
          linear text score in the direction of ``label``; exact for the text model.

        Parameters
        ----------
        post : PostFeatures
            The post to explain.
        n : int, default=5
            Maximum number of reasons of each kind.
        label : {0, 1}, default=1
            The label to argue for.

        Returns
        -------
        reasons : list of str
            The probability first, then context reasons (largest effect first), then wording reasons.
        """
        check_is_fitted(self)
        probability, context, wording = self._attribution(post, n=n, label=label)
        reasons = [f"probability unreliable {probability:.2f}"]
        for name, value, typical, shift in context:
            reasons.append(f"{_describe(name, value)} (typical {_describe(name, typical)}) moves the probability "
                           f"by {shift:+.2f}")
        reasons += [f"wording '{phrase}' {weight:+.2f} to the text score" for phrase, weight in wording]
        return reasons

    def _attribution(self, post: PostFeatures, *, n: int, label: int
                     ) -> tuple[float, list[tuple[str, float, float, float]], list[tuple[str, float]]]:
        """P(unreliable); the booster inputs that moved it most towards ``label`` (name, value, typical value,
        signed shift), the text score left out because the wording explains it; the phrases of the post, as
        written, that moved the text score most (phrase, signed contribution)."""
        sign = 1.0 if int(label) == 1 else -1.0
        features = self._features([post])
        probability = float(self.booster_.predict_proba(features)[0, 1])

        # One row per input, with that input alone reset to its training median.
        baselines = np.repeat(features, len(self.feature_names_), axis=0)
        np.fill_diagonal(baselines, self.reference_)
        effects = sign * (probability - self.booster_.predict_proba(baselines)[:, 1])
        context: list[tuple[str, float, float, float]] = []
        for column in np.argsort(-effects):
            if effects[column] < 0.005 or len(context) >= n:
                break
            name = self.feature_names_[column]
            if name != _TEXT_SCORE:
                context.append((name, float(features[0, column]), float(self.reference_[column]),
                                float(sign * effects[column])))

        coefficients = self.text_model_.named_steps["logreg"].coef_[0]
        weights = self.text_model_.named_steps["tfidf"].transform(self._texts([post])).tocsr()
        contributions = sign * weights.data * coefficients[weights.indices]
        vocabulary = self._terms()
        wording: list[tuple[str, float]] = []
        shown: set[str] = set()
        for position in np.argsort(-contributions):
            if contributions[position] <= 0 or len(wording) >= n:
                break
            phrase = as_written(post.text, vocabulary[weights.indices[position]])
            if phrase is not None and not any(phrase.lower() in key or key in phrase.lower() for key in shown):
                shown.add(phrase.lower())
                wording.append((phrase, float(sign * contributions[position])))
        return probability, context, wording

    def explain(
        self, X: Sequence[PostFeatures], labels: Sequence[Any] | None = None, *, top: int = 3
    ) -> list[list[str]]:
        """Return, in Vietnamese, what a reviewer can check in each post: concrete signals, then phrases.

        Signals are the booster inputs that moved the probability most towards the label (the predicted one
        unless ``labels`` is given), with their effect: "không dẫn nguồn (+12%)", "kêu gọi chia sẻ gấp:
        “chia sẻ gấp” (+9%)", "5 dấu chấm than (+4%)". Phrases are the words of the post, as written, that
        moved the text score most: "cụm từ “chữa khỏi”".

        Parameters
        ----------
        X : sequence of PostFeatures
            Posts to explain.
        labels : sequence of {0, 1} or None, default=None
            Labels to argue for, one per post; the predicted labels if None.
        top : int, default=3
            Maximum number of reasons of each kind.

        Returns
        -------
        reasons : list of list of str
            One list of reasons per post.
        """
        check_is_fitted(self)
        posts = _check_posts(X, allow_empty=True)
        chosen = list(self.predict(posts)) if labels is None else list(labels)
        out = []
        for post, label in zip(posts, chosen, strict=True):
            _, context, wording = self._attribution(post, n=top, label=int(label))
            reasons = [f"{signal_text(name, value, post.text)} ({shift:+.0%})" for name, value, _, shift in context]
            out.append(reasons + [f"cụm từ “{phrase}”" for phrase, _ in wording])
        return out

    def _terms(self) -> NDArray[np.object_]:
        """The text model's n-grams by column, built once per loaded model: building them costs ~0.1 s."""
        terms: NDArray[np.object_] | None = self.__dict__.get("_terms_cache")
        if terms is None:
            names = self.text_model_.named_steps["tfidf"].get_feature_names_out()
            # A FeatureUnion prefixes its branch: "chars__chia s" -> "chia s".
            terms = np.asarray([str(name).split("__", 1)[-1] if self.text_features == "folded" else str(name)
                                for name in names], dtype=object)
            self.__dict__["_terms_cache"] = terms
        return terms

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = super().__getstate__()
        state.pop("_terms_cache", None)  # derived from the fitted vectoriser; never persisted
        return state

    def _texts(self, posts: Sequence[PostFeatures]) -> list[str]:
        """The text form the text model reads."""
        prepare = _fold_text if self.text_features == "folded" else _prepare_text
        return [prepare(post.text) for post in posts]

    def _make_text_model(self) -> Pipeline:
        """Return an unfitted TF-IDF + logistic regression pipeline over prepared text."""
        words = TfidfVectorizer(token_pattern=r"\S+" if self.text_features == "segmented" else r"[^\W_]+",
                                ngram_range=self.ngram_range, min_df=self.min_df, max_df=0.9, sublinear_tf=True,
                                dtype=np.float32)
        tfidf: Any = words
        if self.text_features == "folded":
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=self.char_ngram_range, min_df=self.min_df,
                                    max_df=0.9, sublinear_tf=True, max_features=150_000, dtype=np.float32)
            tfidf = FeatureUnion([("words", words), ("chars", chars)])
        return Pipeline([
            ("tfidf", tfidf),
            ("logreg", LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)),
        ])

    def _features(self, posts: list[PostFeatures]) -> NDArray[np.float64]:
        """Return the booster inputs for posts, using the fitted text model's score."""
        return self._stack(posts, self.text_model_.decision_function(self._texts(posts)), leave_one_out=False)

    def _stack(
        self, posts: list[PostFeatures], text_score: NDArray[np.float64], *, leave_one_out: bool
    ) -> NDArray[np.float64]:
        """Return metadata, text score and (if enabled) author post count as one float matrix."""
        columns = [np.array([_metadata_row(post) for post in posts], dtype=np.float64), text_score[:, None]]
        if self.use_author:
            own = 1 if leave_one_out else 0
            counts = [
                math.log1p(max(self.author_posts_.get(post.author, 0) - own, 0)) if post.author else math.nan
                for post in posts
            ]
            columns.append(np.array(counts, dtype=np.float64)[:, None])
        return np.hstack(columns)
