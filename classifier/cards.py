"""Model cards: what each model is, what it was trained on under which terms, how well it does, its limits."""
from __future__ import annotations

from datetime import date
from typing import Final

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
