"""Model cards: what each model is, what it was trained on under which terms, how well it does, its limits."""
from __future__ import annotations

from datetime import date
from typing import Any, Final

from classifier.evaluate import EvaluationReport

_SEED_DATA: Final = """\
- **Data**: the hotline seed corpus in `classifier/data/category_seed/` (see its `CARD.md`): {n} Vietnamese
  calls and messages written for this project in three styles (speech transcripts without punctuation, typed
  messages, no-diacritics teencode), plus any operator corrections passed with `--extra`.
- **Licence of the data**: written by the project team; released with the code under the project's licence.
  No personal data: names, phone and ID numbers in it are invented."""

_INTENDED: Final = {
    "category": "Sort hotline tickets into one of 11 categories so operators can route them. A suggestion "
                "shown with its reasons; operators correct it, and corrections feed the next training run.",
    "urgency": "Order the operator queue: `emergency` (life at risk now), `high` (action today), `normal`. "
               "Red-flag rules (classifier/red_flags.py) lift `emergency`/`high` whatever the learned score; "
               "they run on accent-folded text, so missing diacritics cannot hide a red flag.",
}

_LIMITS: Final = {
    "category": "Trained on a small written corpus, not on real calls: expect lower accuracy on real traffic "
                "until operator corrections are added. Messages with several needs get one label.",
    "urgency": "The learned part has seen few examples; the rules are the safety net and are deliberately "
               "broad, so expect some false emergencies (e.g. quoted or hypothetical symptoms). Never the "
               "only triage: operators confirm.",
}


def text_model_card(name: str, version: int, report: EvaluationReport, *, n_train: int, folds: int,
                    without_diacritics: EvaluationReport | None = None) -> str:
    """The card of the category or urgency model."""
    folded = "" if without_diacritics is None else f"""
### The same folds, every held-out text stripped of its diacritics
```
{without_diacritics.as_text()}
```
"""
    return f"""# {name}.v{version}

Trained {date.today().isoformat()} with `hotline train {name}`. Estimator: `{_ESTIMATOR[name]}`.

## Intended use
{_INTENDED[name]}

## Training data
{_SEED_DATA.format(n=n_train)}

## Metrics ({folds}-fold stratified cross-validation on the training data)
```
{report.as_text()}
```
{folded}{_CAVEATS.get(name, "")}
## Limits
{_LIMITS[name]}
"""


def misinformation_card(name: str, version: int, report: EvaluationReport, repeated: dict[str, Any], *,
                        n_train: int, folds: int) -> str:
    """The card of the misinformation model."""
    seeds = ", ".join(f"{v:.4f}" for v in repeated.get("roc_auc_seed_means", []))
    return f"""# {name}.v{version}

Trained {date.today().isoformat()} with `hotline train {name}`. Estimator:
`classifier.misinformation.MisinformationClassifier`: word 1–3-gram TF-IDF on pyvi-segmented text with
logistic regression, whose out-of-fold score is stacked with 20 metadata features (engagement, hour and
weekday, length, links, phone numbers, hashtags, punctuation and case ratios) in gradient-boosted trees.

## Intended use
Rank social posts for the communications team's review by the probability that they are unreliable.
A score is a reason to look, never a verdict: people decide, and the review queue records who did.

## Training data
- **ReINTEL** (VLSP 2020 shared task "Reliable Intelligence Identification on Vietnamese SNSs"), public
  training part: {n_train} posts from 2020, many about COVID-19, labelled reliable/unreliable.
- **Terms**: VLSP research-use terms; cite the shared task. Not for redistribution: the data is read from
  `../shared/data/reintel/train.csv` at training time and not copied into this repository. Only the fitted
  model (vocabulary and weights) is committed.
- Not used: the hashed author (no production author could ever match a training hash) and the absolute
  date (in this data it reflects collection, and every production post is later).

## Metrics
Repeated stratified {folds}-fold cross-validation, 3 seeds, near-duplicate reposts kept in one fold
(groups: {repeated.get("n_groups", "?")}):
- **ROC-AUC {repeated.get("roc_auc_mean", float("nan")):.4f} ± {repeated.get("roc_auc_std", float("nan")):.4f}**
  (seed means {seeds})
- average precision {repeated.get("average_precision_mean", float("nan")):.4f}, Brier score
  {repeated.get("brier_mean", float("nan")):.4f}

One {folds}-fold pass at the 0.5 threshold:
```
{report.as_text()}
```

## Limits
Trained on 2020 posts: new topics, new slang and new scams drift away from it. Engagement counts in
ReINTEL were collected some time after posting; a fresh post has lower counts, so scores can move when
counts are refreshed. The 17 % unreliable share of the training data will differ in production, so treat the
probability as a ranking more than a calibrated frequency.
"""


_CAVEATS: Final = {
    "urgency": "The red-flag rules were revised after reading the cross-validation misses of this same corpus, "
               "so the emergency recall above is optimistic; it shows the rules cover these phrasings, not "
               "that they cover every phrasing.\n",
}

_ESTIMATOR: Final = {
    "category": "classifier.estimators.LinearTextClassifier (TF-IDF over pyvi-segmented words, folded words "
                "and folded character 2-5-grams; logistic regression)",
    "urgency": "classifier.estimators.UrgencyClassifier (the same linear model + red-flag rules)",
}
