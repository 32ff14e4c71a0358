"""Suggestions the drafting team confirms with one click: the article an opinion names, the
categories its keywords point to, and categories learned from the team's earlier choices.

Nothing here changes an opinion until the team accepts a suggestion (accept_category,
accept_article). The learned suggestions are measured on a held-out fifth of the team's own
labelled opinions before anything is shown (Model.metrics), then refitted on all of them.
"""

from __future__ import annotations

import os
import pickle
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from flask import current_app
from sqlalchemy import func, select

from portal.audit import record
from portal.comments.services import staff_visible
from portal.extensions import db
from portal.liaison.services import detect_article
from portal.models import Article, Category, Comment, Draft, User, comment_categories
from portal.numerals import normalize_article_refs, normalize_width
from portal.review.services import ReviewError

__all__ = [
    "MIN_EXAMPLES",
    "MIN_SCORE",
    "Model",
    "Suggestions",
    "accept_article",
    "accept_category",
    "keyword_suggestions",
    "learn",
    "model_for",
    "parse_keywords",
    "suggest_article",
    "suggestions_for",
    "train",
]

# Below this many labelled opinions, or with fewer than two categories in use, there is
# nothing to learn from: no learned suggestions are made.
MIN_EXAMPLES = 20
MIN_CATEGORIES = 2
# A learned suggestion is shown only with at least this score (a one-vs-rest probability).
MIN_SCORE = 0.3
# Every fifth labelled opinion (by a hash of its id) is held out to measure the model.
HOLD_OUT = 5
# Regularisation of the logistic regressions: as good as C=3 at 5,000 labelled opinions, and
# more confident (more suggestions above MIN_SCORE) when the team has labelled only a few dozen.
C = 10.0


# --- articles -------------------------------------------------------------------------------


def _article_numbers(draft_id: int) -> set[int]:
    return set(db.session.scalars(select(Article.number).where(Article.draft_id == draft_id)))


def suggest_article(comment: Comment, article_numbers: set[int] | None = None) -> int | None:
    """The article an opinion without one names in its text (第十二条, 第12条), if the draft
    has it. Pass the draft's article numbers when suggesting for many opinions."""
    if comment.article_number is not None or comment.article_id is not None:
        return None
    if article_numbers is None:
        article_numbers = _article_numbers(comment.draft_id)
    return detect_article(comment.body, article_numbers)


# --- keyword rules --------------------------------------------------------------------------

_KEYWORD_SPLIT = re.compile(r"[,，、;；\n]+")
_ASCII_WORD = re.compile(r"[0-9a-z]")


def _normalize(text: str) -> str:
    """Half-width, lower case, 第12条 as 第十二条: how keywords and texts are compared."""
    return normalize_article_refs(normalize_width(text).lower())


def parse_keywords(keywords: str) -> list[str]:
    """A category's keywords: separated by commas (also full-width), 、, semicolons or lines."""
    seen: dict[str, None] = {}
    for part in _KEYWORD_SPLIT.split(normalize_width(keywords or "")):
        # NFKC has already turned full-width commas into ASCII ones; 、 has no half-width form.
        word = part.strip()
        if word:
            seen.setdefault(word, None)
    return list(seen)


def _keyword_pattern(keyword: str) -> re.Pattern[str]:
    """A keyword as a pattern; Latin words and numbers match whole (pm2.5 not in pm2.55)."""
    word = _normalize(keyword)
    pattern = re.escape(word)
    if _ASCII_WORD.match(word[0]):
        pattern = r"(?<![0-9a-z])" + pattern
    if _ASCII_WORD.match(word[-1]):
        pattern += r"(?![0-9a-z])"
    return re.compile(pattern)


_patterns: dict[str, re.Pattern[str] | None] = {}


def _category_pattern(keywords: str) -> re.Pattern[str] | None:
    if keywords not in _patterns:
        words = parse_keywords(keywords)
        if len(_patterns) > 2048:
            _patterns.clear()
        _patterns[keywords] = (
            re.compile("|".join(_keyword_pattern(w).pattern for w in words)) if words else None
        )
    return _patterns[keywords]


def keyword_suggestions(comment: Comment, categories: Iterable[Category]) -> list[Category]:
    """The categories (in the given order) a keyword of which occurs in the opinion, except
    those it already has."""
    text = _normalize(comment.body)
    have = {c.id for c in comment.categories}
    found = []
    for category in categories:
        if category.id in have:
            continue
        pattern = _category_pattern(category.keywords)
        if pattern is not None and pattern.search(text):
            found.append(category)
    return found


# --- learned suggestions --------------------------------------------------------------------

_NOT_A_WORD = re.compile(r"[\W_]+")


def features_text(text: str) -> str:
    """What the model reads: the normalised text without whitespace and punctuation."""
    return _NOT_A_WORD.sub("", _normalize(text))


def _held_out(comment_id: int) -> bool:
    # A hash rather than id % 5, so that opinions entered in a rhythm are not split by it.
    return zlib.crc32(str(comment_id).encode()) % HOLD_OUT == 0


@dataclass
class _Fitted:
    vectorizer: object
    classifier: object
    classes: list[int]

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        return self.classifier.predict_proba(self.vectorizer.transform(texts))


def _fit(texts: Sequence[str], labels: Sequence[set[int]]) -> _Fitted | None:
    """TF-IDF of character 1-3-grams and one logistic regression per category; None when
    fewer than two categories have both examples and non-examples."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    binarizer = MultiLabelBinarizer()
    y = binarizer.fit_transform(labels)
    # A category on every opinion cannot be told apart (and sklearn warns about it).
    useful = [i for i in range(y.shape[1]) if 0 < y[:, i].sum() < len(labels)]
    if len(useful) < MIN_CATEGORIES:
        return None
    vectorizer = TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, 3),
        preprocessor=features_text,
        sublinear_tf=True,
        dtype=np.float32,
    )
    x = vectorizer.fit_transform(texts)
    classifier = OneVsRestClassifier(LogisticRegression(C=C, solver="liblinear"))
    classifier.fit(x, y[:, useful])
    return _Fitted(vectorizer, classifier, [int(binarizer.classes_[i]) for i in useful])


def _rank(fitted: _Fitted, scores: np.ndarray, exclude: set[int], top: int, min_score: float):
    order = np.argsort(-scores, kind="stable")
    result = []
    for i in order:
        category_id = fitted.classes[i]
        if scores[i] < min_score or len(result) >= top:
            break
        if category_id not in exclude:
            result.append((category_id, float(scores[i])))
    return result


@dataclass
class Model:
    """Learned category suggestions for one draft, with their measured quality.

    metrics: precision (of the held-out opinions that got a top suggestion, the share for which
    it is one of their categories), recall (of all held-out opinions, the share whose top
    suggestion is right), held_out and trained_on (the measurement's split), labelled (all
    examples the model was finally fitted on), categories and seconds.
    """

    fitted: _Fitted
    metrics: dict = field(default_factory=dict)

    @property
    def category_ids(self) -> list[int]:
        return list(self.fitted.classes)

    def suggest(
        self, comment: Comment | str, top: int = 2, min_score: float = MIN_SCORE
    ) -> list[tuple[int, float]]:
        """Up to `top` (category id, score) pairs, best first, leaving out the categories the
        opinion already has."""
        return self.suggest_many([comment], top=top, min_score=min_score)[0]

    def suggest_many(
        self, comments: Sequence[Comment | str], top: int = 2, min_score: float = MIN_SCORE
    ) -> list[list[tuple[int, float]]]:
        if not comments:
            return []
        scores = self.fitted.scores([c if isinstance(c, str) else c.body for c in comments])
        return [
            _rank(
                self.fitted,
                row,
                set() if isinstance(c, str) else {cat.id for cat in c.categories},
                top,
                min_score,
            )
            for c, row in zip(comments, scores, strict=True)
        ]


def learn(
    examples: Sequence[tuple[int, str, Iterable[int]]], *, min_score: float = MIN_SCORE
) -> Model | None:
    """Measure, then fit, a model on [(comment id, text, category ids)]; None when there is
    not enough to learn from (fewer than MIN_EXAMPLES labelled opinions or MIN_CATEGORIES
    categories)."""
    started = time.perf_counter()
    labelled = [(i, text, set(cats)) for i, text, cats in examples if cats]
    if len(labelled) < MIN_EXAMPLES:
        return None
    if len({c for _, _, cats in labelled for c in cats}) < MIN_CATEGORIES:
        return None
    texts = [text for _, text, _ in labelled]
    train_at = [n for n, (i, _, _) in enumerate(labelled) if not _held_out(i)]
    test_at = [n for n, (i, _, _) in enumerate(labelled) if _held_out(i)]

    metrics = {"precision": None, "recall": None, "held_out": len(test_at), "trained_on": 0}
    measured = _fit([texts[n] for n in train_at], [labelled[n][2] for n in train_at])
    if measured is not None and test_at:
        metrics["trained_on"] = len(train_at)
        scores = measured.scores([texts[n] for n in test_at])
        suggested = correct = 0
        for n, row in zip(test_at, scores, strict=True):
            best = _rank(measured, row, set(), 1, min_score)
            if best:
                suggested += 1
                correct += best[0][0] in labelled[n][2]
        metrics["precision"] = correct / suggested if suggested else 0.0
        metrics["recall"] = correct / len(test_at)

    fitted = _fit(texts, [cats for _, _, cats in labelled])
    if fitted is None:
        return None
    metrics["labelled"] = len(labelled)
    metrics["categories"] = len(fitted.classes)
    metrics["seconds"] = round(time.perf_counter() - started, 3)
    return Model(fitted, metrics)


def _labelled(draft_id: int) -> list[tuple[int, str, list[int]]]:
    rows = db.session.execute(
        select(Comment.id, Comment.body, comment_categories.c.category_id)
        .join(comment_categories, comment_categories.c.comment_id == Comment.id)
        .where(Comment.draft_id == draft_id, staff_visible())
        .order_by(Comment.id)
    ).all()
    examples: dict[int, tuple[int, str, list[int]]] = {}
    for comment_id, body, category_id in rows:
        examples.setdefault(comment_id, (comment_id, body, []))[2].append(category_id)
    return list(examples.values())


def train(draft_id: int) -> Model | None:
    """Learn from the team's own categorisation of this draft's opinions (see learn()).

    Features: TF-IDF of character 1-3-grams of the normalised text; one logistic regression
    per category (liblinear). On synthetic opinions built from a real draft's sentences (eight
    chapter-like categories, 5,000 labelled) its top suggestion was right for 0.73-0.74 of the
    held-out opinions, jieba search-mode words 0.71-0.72; LinearSVC and ComplementNB were no
    better and give no probability to hold against MIN_SCORE.
    """
    return learn(_labelled(draft_id))


# Trained models live in files (JOB_DIR/models, shared by every process and host like the
# jobs' other files); each process keeps the ones it read. The file names the labels it learned
# from, so a page sees at once whether the team has categorised more since.
_cache: OrderedDict[tuple, tuple[float, tuple, Model | None]] = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 16


def labels_key(draft_id: int) -> tuple[int, str]:
    """What a model learned from: the number of category links and the latest one."""
    links, latest = db.session.execute(
        select(func.count(), func.max(comment_categories.c.created_at))
        .select_from(comment_categories)
        .join(Comment, comment_categories.c.comment_id == Comment.id)
        .where(Comment.draft_id == draft_id, staff_visible())
    ).one()
    return (links, latest.isoformat() if latest else "")


def model_path(draft_id: int) -> Path:
    return Path(current_app.config["JOB_DIR"]) / "models" / f"draft-{draft_id}.pickle"


def model_for(draft_id: int) -> Model | None:
    """The draft's latest trained model, never trained in the caller's request: when the
    labels changed since it was trained, a training job is queued (at most one at a time) and
    the previous model serves until the new one is ready."""
    key = labels_key(draft_id)
    if not key[0]:
        return None
    stored = _read(draft_id)
    if stored is None or stored[0] != key:
        from portal.jobs import services as jobs

        jobs.start_detached("review.train", draft_id=draft_id, key=list(key))
        stored = _read(draft_id)  # a job run at once (tests) has written it
    return stored[1] if stored is not None else None


def store_model(draft_id: int, key: tuple, model: Model | None) -> None:
    """Write a trained model for every process to read (atomically: replace, never rewrite)."""
    path = model_path(draft_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps((tuple(key), model), protocol=pickle.HIGHEST_PROTOCOL))
    partial.replace(path)


def _read(draft_id: int) -> tuple[tuple, Model | None] | None:
    path = model_path(draft_id)
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    cache_key = (str(path), draft_id)
    with _cache_lock:
        cached = _cache.get(cache_key)
        if cached is not None and cached[0] == mtime:
            _cache.move_to_end(cache_key)
            return cached[1], cached[2]
    try:
        # Our own file, written by store_model() in the worker: never user input.
        key, model = pickle.loads(path.read_bytes())  # noqa: S301
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError):
        return None  # half-replaced or from an older version: a new training replaces it
    with _cache_lock:
        _cache[cache_key] = (mtime, tuple(key), model)
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return tuple(key), model


# --- a page of suggestions ----------------------------------------------------------------


@dataclass
class Suggestions:
    article: int | None = None
    keyword_categories: list[Category] = field(default_factory=list)
    learned: list[tuple[Category, float]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.article or self.keyword_categories or self.learned)


def _draft_categories(draft: Draft) -> list[Category]:
    return list(
        db.session.scalars(
            select(Category)
            .where((Category.draft_id == draft.id) | Category.draft_id.is_(None))
            .order_by(Category.draft_id.is_(None), Category.position, Category.id)
        )
    )


def suggestions_for(
    comments: Sequence[Comment], draft: Draft, *, model: Model | None = None
) -> dict[int, Suggestions]:
    """All three kinds of suggestion for a page of opinions, by comment id. A learned
    suggestion already made by a keyword rule is not repeated."""
    numbers = _article_numbers(draft.id)
    categories = _draft_categories(draft)
    by_id = {c.id: c for c in categories}
    if model is None:
        model = model_for(draft.id)
    learned = model.suggest_many(comments) if model is not None and comments else []
    result: dict[int, Suggestions] = {}
    for n, comment in enumerate(comments):
        keyword = keyword_suggestions(comment, categories)
        shown = {c.id for c in keyword}
        result[comment.id] = Suggestions(
            article=suggest_article(comment, numbers),
            keyword_categories=keyword,
            learned=[
                (by_id[category_id], score)
                for category_id, score in (learned[n] if learned else [])
                if category_id in by_id and category_id not in shown
            ],
        )
    return result


# --- accepting a suggestion ---------------------------------------------------------------


def accept_category(comment: Comment, category: Category, actor: User) -> bool:
    """Put the opinion in the category; False if it was already there. Flushes."""
    if category.draft_id not in (None, comment.draft_id):
        raise ReviewError("category_unknown")
    if category in comment.categories:
        return False
    comment.categories.append(category)
    db.session.flush()
    record(
        actor,
        "comment.category_added",
        comment,
        {"category": category.id, "name": category.name, "suggested": True},
    )
    return True


def accept_article(comment: Comment, number: int, actor: User) -> bool:
    """Set the article (and its chapter) the opinion is about; False if it already was. Raises
    ReviewError("article_unknown") for a number the draft does not have. Flushes."""
    article = db.session.scalar(
        select(Article).where(Article.draft_id == comment.draft_id, Article.number == number)
    )
    if article is None:
        raise ReviewError("article_unknown", number=number)
    if comment.article_id == article.id and comment.article_number == number:
        return False
    before = comment.article_number
    comment.article = article
    comment.chapter = article.chapter
    comment.article_number = number
    db.session.flush()
    record(
        actor,
        "comment.article_set",
        comment,
        {"before": before, "after": number, "suggested": True},
    )
    return True
