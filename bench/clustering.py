"""Near-duplicate clustering: speed, and precision/recall on planted form-letter campaigns.

Synthetic opinions on the demo waste-sorting draft: distinct opinions built from the draft's
own words, articles and sentences (so unrelated opinions share much vocabulary), short ones
("同意。"), and campaigns of 50-2,000 lightly edited copies of a form letter (characters
changed, a sentence added or dropped, punctuation, width and spacing changed, a name added).

`python -m bench clustering` prints the figures at 20,000 opinions for the pure function and
for recluster_draft on a throw-away SQLite database; `python -m bench.clustering sweep`
compares shingle sizes, permutation counts and thresholds on the same corpus.
"""

from __future__ import annotations

import collections
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from portal.numerals import int_to_chinese
from portal.review.clustering import (
    LSH_THRESHOLD,
    MIN_CHARS,
    MIN_JACCARD,
    NUM_PERM,
    SHINGLE,
    find_groups,
    jaccard,
    normalize_text,
    shingles,
)

DRAFT = Path(__file__).resolve().parent.parent / "portal" / "demo" / "drafts" / "laji_fenlei.txt"
SEED = 20260314
N = 20_000
CAMPAIGNS = (2000, 1000, 500, 300, 150, 80, 50)
SHORT_CAMPAIGN = 200  # a short form letter (about 30 characters), lightly edited

REASONS = [
    "执行中难以操作",
    "老百姓反映强烈",
    "与上位法不一致",
    "表述不够清楚",
    "标准过于宽松",
    "处罚力度偏轻",
    "增加了群众负担",
    "缺少配套措施",
    "基层人手不足",
    "居民意见很大",
]
TEMPLATES = [
    "建议将{ref}中的“{w1}”修改为“{w2}”，因为{reason}。",
    "{ref}关于{w1}的规定不够明确，{w2}应当进一步细化。",
    "我认为{w1}和{w2}的问题比较突出，希望在{ref}中予以明确。",
    "关于{w1}，建议增加{w2}的内容，并明确{w3}的责任。",
    "{ref}第{para}款关于{w1}的规定，与{w2}的要求存在冲突。",
    "我们小区{w1}问题严重，{w2}长期得不到解决，{reason}。",
    "支持{ref}关于{w1}的规定，但{w2}还需要细化。",
    "建议删除{ref}，{reason}。",
    "{w1}、{w2}、{w3}等方面需要加强监管。",
    "罚款数额偏低，建议调整为{n}元至{m}元。",
    "对于{w1}，{w2}部门应当会同{w3}部门建立协调机制。",
    "{ref}规定“{quote}”，建议修改，{reason}。",
    "希望{w1}能够真正落实，{w2}不要流于形式。",
]
SHORT = ["同意", "同意。", "支持！", "赞成", "没有意见", "无意见。", "同意本条", "建议删除本条"]
PERSONAL = [
    "我家住在{place}，每天都要面对这个问题。",
    "作为一名{who}，我对此深有体会。",
    "恳请立法机关认真考虑群众的呼声。",
    "以上意见请予采纳。",
    "希望政府部门重视。",
]
PLACES = ["城东街道", "江北新区", "滨湖小区", "东门社区", "城南片区", "新河镇"]
WHO = ["退休教师", "社区志愿者", "小区业主", "环卫工人", "个体工商户", "在校大学生"]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华"
PUNCT_SWAPS = [("，", ","), ("。", "."), ("；", ";"), ("：", ":"), ("“", '"'), ("”", '"')]


@dataclass
class Material:
    words: list[str]
    quotes: list[str]
    articles: int
    chars: str


def _material() -> Material:
    text = DRAFT.read_text(encoding="utf-8")
    articles = len(re.findall(r"^第[零一二三四五六七八九十百]+条", text, re.M))
    clauses = [
        s
        for line in text.splitlines()
        for s in re.split("[。；，]", re.sub(r"^第\S+条\u3000", "", line))
        if s
    ]
    quotes = [s for s in clauses if 8 <= len(s) <= 30]
    # Two- to four-character runs between punctuation and function words: the draft's terms.
    words = sorted(
        {
            w
            for s in clauses
            for w in re.split("[的和或及与、（）《》应当由对在等]", s)
            if 2 <= len(w) <= 4 and re.fullmatch("[\u4e00-\u9fff]+", w)
        }
    )
    chars = "".join(sorted(set(re.sub("[^\u4e00-\u9fff]", "", text))))
    return Material(words, quotes, articles, chars)


def _ref(rng: random.Random, articles: int) -> str:
    n = rng.randint(1, articles)
    return f"第{int_to_chinese(n)}条" if rng.random() < 0.7 else f"第{n}条"


def _sentence(rng: random.Random, m: Material) -> str:
    w1, w2, w3 = rng.sample(m.words, 3)
    n = rng.randint(1, 50) * 100
    return rng.choice(TEMPLATES).format(
        ref=_ref(rng, m.articles),
        w1=w1,
        w2=w2,
        w3=w3,
        reason=rng.choice(REASONS),
        para=int_to_chinese(rng.randint(1, 3)),
        n=n,
        m=n * rng.randint(2, 5),
        quote=rng.choice(m.quotes),
    )


def _opinion(rng: random.Random, m: Material, sentences: int) -> str:
    return "".join(_sentence(rng, m) for _ in range(sentences))


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.randint(1, 2)))


def _edit(rng: random.Random, text: str, m: Material) -> str:
    """One light edit of a copied form letter."""
    kind = rng.randrange(8)
    if kind == 0:  # a few characters changed (typing, a synonym)
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            chars[rng.randrange(len(chars))] = rng.choice(m.chars)
        return "".join(chars)
    if kind == 1:  # a sentence added
        extra = rng.choice(PERSONAL).format(place=rng.choice(PLACES), who=rng.choice(WHO))
        cut = [i + 1 for i, ch in enumerate(text) if ch == "。"] or [len(text)]
        at = rng.choice(cut)
        return text[:at] + extra + text[at:]
    if kind == 2:  # half-width punctuation, as typed on a phone or a foreign keyboard
        for full, half in PUNCT_SWAPS:
            if rng.random() < 0.7:
                text = text.replace(full, half)
        return text
    if kind == 3:  # a name and a place
        return f"我是{rng.choice(PLACES)}居民{_name(rng)}，" + text
    if kind == 4:  # signed
        return text + f"——{_name(rng)}"
    if kind == 5:  # spacing and line breaks
        chars = list(text)
        for _ in range(rng.randint(1, 6)):
            chars.insert(rng.randrange(len(chars)), rng.choice([" ", "\n", "\u3000"]))
        return "".join(chars)
    if kind == 6:  # full-width digits
        return text.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    # a sentence dropped, if there are enough to keep the letter recognisable
    sentences = [s for s in re.split("(?<=。)", text) if s]
    if len(sentences) >= 5:
        del sentences[rng.randrange(len(sentences))]
    return "".join(sentences)


def corpus(n: int, campaigns: tuple[int, ...], seed: int = SEED) -> list[tuple[int, str, str]]:
    """[(id, text, label)]: comments with one label are true duplicates of each other."""
    rng = random.Random(seed)  # noqa: S311  (repeatable test data)
    m = _material()
    rows: list[tuple[str, str]] = []
    for index, size in enumerate(campaigns):
        letter = _opinion(rng, m, rng.randint(4, 8))
        rows.append((letter, f"campaign{index}"))
        for _ in range(size - 1):
            copy = letter
            for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
                copy = _edit(rng, copy, m)
            rows.append((copy, f"campaign{index}"))
    if SHORT_CAMPAIGN and n >= 10 * SHORT_CAMPAIGN:
        letter = f"坚决反对{_ref(rng, m.articles)}关于{rng.choice(m.words)}的规定，请予删除！"
        for _ in range(SHORT_CAMPAIGN):
            copy = letter if rng.random() < 0.5 else _edit(rng, letter, m)
            rows.append((copy, "campaign-short"))
    while len(rows) < n:
        if rng.random() < 0.08:
            text = rng.choice(SHORT)
        else:
            text = _opinion(rng, m, rng.choice((1, 1, 2, 2, 3, 4, 6)))
        normalized = normalize_text(text)
        # Identical normalised texts are duplicates by definition; so are very short equal ones.
        rows.append((text, f"text:{normalized}"))
    rng.shuffle(rows)
    return [(i, text, label) for i, (text, label) in enumerate(rows, start=1)]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


@dataclass
class Score:
    precision: float  # of the pairs put together, the share that are true duplicates
    recall: float  # of the true duplicate pairs, the share put together
    wrong: int  # opinions in a cluster whose majority is another campaign or text
    missed: int  # campaign members outside their campaign's largest cluster

    def __str__(self) -> str:
        return (
            f"pair precision {self.precision:.4f}  recall {self.recall:.4f}"
            f"  wrongly merged {self.wrong}  campaign members missed {self.missed}"
        )


def score(rows: list[tuple[int, str, str]], groups: list[list[int]]) -> Score:
    label = {i: lab for i, _, lab in rows}
    true_sizes = collections.Counter(label.values())
    counts = [collections.Counter(label[i] for i in g) for g in groups]
    found = sum(_pairs(len(g)) for g in groups)
    expected = sum(_pairs(s) for s in true_sizes.values())
    correct = sum(_pairs(n) for c in counts for n in c.values())
    wrong = sum(len(g) - c.most_common(1)[0][1] for g, c in zip(groups, counts, strict=True))
    caught: dict[str, int] = {}
    for c in counts:
        for lab, n in c.items():
            caught[lab] = max(caught.get(lab, 0), n)
    missed = sum(
        size - caught.get(lab, 0) for lab, size in true_sizes.items() if lab.startswith("campaign")
    )
    return Score(
        correct / found if found else 1.0, correct / expected if expected else 1.0, wrong, missed
    )


def _campaigns(rows: list[tuple[int, str, str]], groups: list[list[int]]) -> list[str]:
    label = {i: lab for i, _, lab in rows}
    cluster_of = {i: n for n, g in enumerate(groups) for i in g}
    lines = []
    for name in sorted({lab for lab in label.values() if lab.startswith("campaign")}):
        members = [i for i, lab in label.items() if lab == name]
        clusters = collections.Counter(cluster_of.get(i) for i in members)
        best, caught = clusters.most_common(1)[0]
        if best is None:
            lines.append(f"    {name:15} {len(members):>5} planted: not found")
            continue
        foreign = sum(1 for i in groups[best] if label[i] != name)
        lines.append(
            f"    {name:15} {len(members):>5} planted  {caught:>5} in its largest cluster"
            f"  ({len(clusters) - (None in clusters)} clusters, {foreign} foreign)"
        )
    return lines


def _time_pure(rows, **options) -> tuple[float, list[list[int]]]:
    started = time.perf_counter()
    groups = find_groups([(i, text) for i, text, _ in rows], **options)
    return time.perf_counter() - started, groups


def _time_database(rows) -> list[str]:
    """recluster_draft on a throw-away SQLite database, the first time and once more."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from portal import create_app
    from portal.extensions import db
    from portal.models import Comment, Draft, DraftStatus, utcnow
    from portal.review.clustering import recluster_draft

    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SECRET_KEY": "bench",
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db",
                "INDEX_DIR": f"{tmp}/index",
                "UPLOAD_DIR": f"{tmp}/uploads",
            }
        )
        with app.app_context():
            upgrade()
            draft = Draft(slug="bench", title="测试条例（草案）", status=DraftStatus.consulting)
            db.session.add(draft)
            db.session.flush()
            now = utcnow()
            # On the connection: behind the session hooks (outbox, tallies).
            db.session.connection().execute(
                insert(Comment.__table__),
                [
                    {"draft_id": draft.id, "body": text, "created_at": now, "updated_at": now}
                    for _, text, _ in rows
                ],
            )
            db.session.commit()
            for run in ("first run", "again"):
                started = time.perf_counter()
                report = recluster_draft(draft.id)
                db.session.commit()
                seconds = time.perf_counter() - started
                lines.append(
                    f"  recluster_draft, {run} (SQLite): n={report.comments}  {seconds:.2f} s"
                    f" with the commit  {report.clusters} clusters, {report.clustered} clustered,"
                    f" largest {report.largest}, {report.changed} changed"
                )
            db.session.remove()
            db.engine.dispose()
    return lines


def run(n: int = N, campaigns: tuple[int, ...] = CAMPAIGNS) -> None:
    rows = corpus(n, campaigns)
    print(
        f"  settings: {SHINGLE}-gram shingles, {NUM_PERM} permutations, LSH threshold "
        f"{LSH_THRESHOLD}, verified Jaccard >= {MIN_JACCARD}, exact-only below {MIN_CHARS} chars"
    )
    seconds, groups = _time_pure(rows)
    clustered = sum(len(g) for g in groups)
    print(
        f"  find_groups: n={len(rows)}  {seconds:.2f} s  {len(groups)} clusters"
        f" ({clustered} opinions)\n  {score(rows, groups)}"
    )
    print("\n".join(_campaigns(rows, groups)))
    print("\n".join(_time_database(rows)))


def _similarities(rows, k: int, rng: random.Random) -> tuple[list[float], list[float]]:
    """Exact Jaccard of random pairs inside campaigns, and of each sampled distinct opinion
    with its most similar other distinct opinion (the pairs a threshold must keep apart)."""
    by_label = collections.defaultdict(list)
    for _, text, label in rows:
        by_label[label].append(text)
    sets = {
        label: [shingles(normalize_text(t), k) for t in texts]
        for label, texts in by_label.items()
        if label.startswith("campaign")
    }
    inside = [jaccard(*rng.sample(group, 2)) for group in sets.values() for _ in range(300)]
    distinct = [
        shingles(normalize_text(texts[0]), k)
        for label, texts in by_label.items()
        if label.startswith("text:") and len(label) - 5 >= MIN_CHARS
    ]
    sample = rng.sample(distinct, 200)
    nearest = [max(jaccard(a, b) for b in distinct if b is not a) for a in sample]
    return inside, nearest


def _quantiles(values: list[float]) -> str:
    values = sorted(values)
    pick = [values[int(q * (len(values) - 1))] for q in (0.0, 0.01, 0.05, 0.5, 0.95, 1.0)]
    return " ".join(f"{v:.2f}" for v in pick)


def sweep(n: int = N) -> None:
    """Compare shingle sizes, permutation counts and thresholds (takes a few minutes)."""
    rows = corpus(n, CAMPAIGNS)
    rng = random.Random(1)  # noqa: S311
    print("  exact Jaccard, quantiles min 1% 5% 50% 95% max")
    for k in (2, 3, 4, 5):
        inside, nearest = _similarities(rows, k, rng)
        print(f"    k={k}  campaign pairs: {_quantiles(inside)}")
        print(f"         nearest distinct: {_quantiles(nearest)}")
    print("  k  perm  lsh   min_j  seconds")
    for k, num_perm, lsh, min_j in [
        (3, 128, 0.6, 0.7),
        (3, 64, 0.6, 0.7),
        (3, 256, 0.6, 0.7),
        (3, 128, 0.7, 0.7),
        (3, 128, 0.5, 0.7),
        (3, 128, 0.5, 0.65),
        (3, 128, 0.5, 0.6),
        (3, 128, 0.6, 0.75),
        (2, 128, 0.6, 0.7),
        (4, 128, 0.6, 0.7),
        (4, 128, 0.5, 0.65),
        (5, 128, 0.5, 0.6),
    ]:
        seconds, groups = _time_pure(
            rows, k=k, num_perm=num_perm, lsh_threshold=lsh, min_jaccard=min_j
        )
        result = score(rows, groups)
        print(f"  {k}  {num_perm:>4}  {lsh:.2f}  {min_j:.2f}  {seconds:6.2f}  {result}")


if __name__ == "__main__":
    sweep() if sys.argv[1:] == ["sweep"] else run()
