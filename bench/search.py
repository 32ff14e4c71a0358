"""Opinion search: Chinese analyzers compared on recall, precision and speed at 10,000 opinions."""

from __future__ import annotations

import collections
import random
import re
import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.query import And, NullQuery, Or, Phrase, Query, Term
from whoosh.query.spans import SpanNear2

from portal.numerals import int_to_chinese
from portal.search.analysis import (
    ARTICLE_REF_RE,
    CJKNgramTokenizer,
    JiebaTokenizer,
    is_cjk,
    load_jieba,
    normalize,
    query_tokens,
)
from portal.search.index import WRITER_OPTIONS, make_schema
from portal.search.query import SearchParams, parse_query, run_search, text_query

DEMO = Path(__file__).resolve().parent.parent / "portal" / "demo" / "drafts"
DOCS = 10_000
SEED = 20261122
FIELDS = ("body", "quote")
# Each query runs this often and its fastest time counts: the machine is shared, and another
# process's burst should not decide between two analyzers.
REPEAT = 2

# -- the corpus ---------------------------------------------------------------------------

AIR_TERMS = [
    "大气污染",
    "重污染天气",
    "扬尘",
    "机动车尾气",
    "臭氧",
    "空气质量",
    "预警",
    "限行",
    "秸秆焚烧",
    "餐饮油烟",
    "挥发性有机物",
    "工地扬尘",
    "渣土车",
    "燃煤锅炉",
    "露天烧烤",
    "雾霾",
    "监测站",
    "排放标准",
]
AIR_LATIN = ["PM2.5", "ＰＭ２．５", "pm2.5", "PM10", "ＰＭ１０"]
HOTLINE = ["12345热线", "12345 热线", "１２３４５热线", "市民热线12345", "12345政务服务热线"]
COLLOQUIAL = {
    "wuye": ["物业费", "物业服务费", "物业管理费", "业委会", "业主委员会", "停车费", "停车服务费"],
    "laji": ["垃圾分类", "垃圾桶", "厨余垃圾", "定时定点", "撤桶并点"],
    "shanti": ["开山采石", "登山步道", "山体滑坡", "违建"],
    "air": AIR_TERMS,
}
TOPIC_FILES = {"shanti": "shanti_baohu.txt", "wuye": "wuye_guanli.txt", "laji": "laji_fenlei.txt"}
REASONS = [
    "执行中难以操作",
    "老百姓反映强烈",
    "与上位法不一致",
    "表述不够清楚",
    "标准过于宽松",
    "处罚力度偏轻",
    "增加了群众负担",
    "缺少配套措施",
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
    "罚款数额{level}，建议调整为{n}元至{m}元。",
    "遇到{w1}问题可以拨打{hotline}反映，但{w2}处理不及时。",
    "今天{latin}浓度又超标了，{w1}和{w2}必须严格管控。",
    "{colloquial}的问题大家都很关心，{w1}应当公开透明。",
    "希望{w1}能够真正落实，{colloquial}不要流于形式。",
    "对于{w1}，{w2}部门应当会同{w3}部门建立协调机制。",
]


@dataclass
class Topic:
    name: str
    words: list[str]
    quotes: list[str]
    articles: int
    draft: str


def _harvest() -> dict[str, Topic]:
    """Frequent words, article count and quotable sentences of each demo draft."""
    jieba = load_jieba()
    numeral = re.compile("[零〇一二两三四五六七八九十百千第0-9]")
    general: collections.Counter[str] = collections.Counter()
    topics: dict[str, Topic] = {}
    for index, (name, filename) in enumerate(TOPIC_FILES.items(), start=1):
        text = (DEMO / filename).read_text(encoding="utf-8")
        counts = collections.Counter(
            w
            for w in jieba.cut(text)
            if 2 <= len(w) <= 4 and re.fullmatch("[\u4e00-\u9fff]+", w) and not numeral.search(w)
        )
        general.update(counts)
        words = [w for w, _ in counts.most_common(220)]
        articles = len(re.findall(r"^第[零一二三四五六七八九十百]+条", text, re.M))
        quotes = [
            s
            for line in text.splitlines()
            for s in re.split("[。；]", re.sub(r"^第\S+条\u3000", "", line))
            if 10 <= len(s) <= 60
        ]
        topics[name] = Topic(name, words + COLLOQUIAL[name], quotes, articles, str(index))
    general_words = [w for w, _ in general.most_common(150)]
    topics["air"] = Topic("air", AIR_TERMS + general_words[:40], [], 60, "4")
    for topic in topics.values():
        topic.words.extend(general_words[:30])
    return topics


def _ref(rng: random.Random, articles: int) -> str:
    n = rng.randint(1, articles)
    form = rng.random()
    if form < 0.5:
        return f"第{int_to_chinese(n)}条"
    if form < 0.75:
        return f"第{n}条"
    if form < 0.85:
        return f"第{str(n).translate(str.maketrans('0123456789', '０１２３４５６７８９'))}条"
    if form < 0.95:
        return f"第 {n} 条"
    return f"第{int_to_chinese(n)}条第{int_to_chinese(rng.randint(1, 3))}款"


def _sentence(rng: random.Random, topic: Topic) -> str:
    words = topic.words
    n = rng.randint(1, 50) * 100
    return rng.choice(TEMPLATES).format(
        ref=_ref(rng, topic.articles),
        w1=rng.choice(words),
        w2=rng.choice(words),
        w3=rng.choice(words),
        para=int_to_chinese(rng.randint(1, 3)),
        reason=rng.choice(REASONS),
        level=rng.choice(["过高", "过低", "不合理"]),
        n=n,
        m=n * rng.randint(2, 10),
        hotline=rng.choice(HOTLINE),
        latin=rng.choice(AIR_LATIN),
        colloquial=rng.choice(COLLOQUIAL[topic.name]),
    )


def make_corpus(n: int = DOCS, seed: int = SEED) -> tuple[list[dict], dict[str, Topic]]:
    """n opinions of 50-400 characters with plausible metadata."""
    rng = random.Random(seed)  # noqa: S311 (a reproducible synthetic corpus)
    topics = _harvest()
    names = ["shanti", "wuye", "laji", "air"]
    weights = [0.25, 0.35, 0.3, 0.1]
    points = [f"P-{i:03d}" for i in range(1, 28)]
    districts = ["上城区", "下城区", "江北区", "西湖区", "滨江区", "萧山区", "余杭区", "临平区"]
    start = datetime(2026, 9, 1)
    docs = []
    for i in range(1, n + 1):
        topic = topics[rng.choices(names, weights)[0]]
        target = rng.randint(50, 400)
        body = ""
        while len(body) < target:
            body += _sentence(rng, topic)
        if len(body) > 400:
            body = body[:400]
        article = rng.randint(1, topic.articles) if rng.random() < 0.7 else 0
        channel = rng.choices(["online", "liaison", "api"], [0.6, 0.35, 0.05])[0]
        doc = {
            "id": str(i),
            "body": body,
            "quote": rng.choice(topic.quotes) if topic.quotes and rng.random() < 0.3 else "",
            "draft": topic.draft,
            "article": article,
            "chapter": (article - 1) // 10 + 1 if article else 0,
            "categories": ",".join(str(c) for c in rng.sample(range(1, 13), rng.randint(0, 2))),
            "stance": rng.choice(["support", "oppose", "amend", "add", "delete", "other"]),
            "identity": rng.choice(["resident", "business", "expert", "deputy", "none"]),
            "channel": channel,
            "decision": rng.choice(["none", "none", "adopted", "partly_adopted", "not_adopted"]),
            "status": rng.choice(["received", "under_review", "decided"]),
            "created_at": start + timedelta(minutes=rng.randint(0, 60 * 24 * 60)),
            "raised_by": 1,
        }
        if channel == "liaison":
            doc["liaison_point"] = rng.choice(points)
            doc["district"] = rng.choice(districts)
        docs.append(doc)
    return docs, topics


def make_queries(topics: dict[str, Topic], n: int = 200, seed: int = SEED) -> list[str]:
    """1-3 word queries: draft words, article references in both spellings, Latin and digits,
    single characters and colloquial terms."""
    rng = random.Random(seed + 1)  # noqa: S311
    vocab = [w for name in ("shanti", "wuye", "laji", "air") for w in topics[name].words[:120]]
    queries: list[str] = []
    for _ in range(int(n * 0.40)):
        queries.append(rng.choice(vocab))
    for _ in range(int(n * 0.25)):
        queries.append(f"{rng.choice(vocab)} {rng.choice(vocab)}")
    for _ in range(int(n * 0.05)):
        queries.append(" ".join(rng.sample(vocab, 3)))
    for _ in range(int(n * 0.10)):
        number = rng.randint(1, 60)
        queries.append(f"第{int_to_chinese(number)}条" if rng.random() < 0.5 else f"第{number}条")
    queries += ["PM2.5", "ＰＭ２．５", "pm2.5 超标", "12345", "12345 热线", "１２３４５热线"]
    queries += ["PM10"]
    queries += ["罚", "费", "山", "桶", "梯", "车", "树", "款"]
    queries += ["物业费", "业委会", "停车费", "垃圾分类", "分类", "物业管理", "业主大会"]
    while len(queries) < n:
        queries.append(f"{rng.choice(vocab)} {rng.choice([*AIR_TERMS, 'PM2.5', '12345'])}")
    return queries[:n]


# -- candidates ---------------------------------------------------------------------------


def _jieba_query(q: str) -> Query:
    tokenizer = JiebaTokenizer()
    per_term = []
    for term in q.split():
        tokens = [t.text for t in tokenizer(term)]
        if not tokens:
            continue
        per_term.append(Or([And([Term(f, t) for t in tokens]) for f in FIELDS]))
    return And(per_term) if per_term else NullQuery


def _bigram_and_query(q: str) -> Query:
    per_term = []
    for term in q.split():
        tokens = query_tokens(term)
        if tokens:
            per_term.append(Or([And([Term(f, t) for t in tokens]) for f in FIELDS]))
    return And(per_term) if per_term else NullQuery


def _bigram_phrase_query(q: str) -> Query:
    per_term = []
    for term in q.split():
        tokens = query_tokens(term)
        if tokens:
            per_term.append(
                Or([Term(f, tokens[0]) if len(tokens) == 1 else Phrase(f, tokens) for f in FIELDS])
            )
    return And(per_term) if per_term else NullQuery


def _exact_query(q: str) -> Query:
    return And([text_query(term, exact=True) for term in q.split()])


def _loose_query(q: str) -> Query:
    """The alternative to synonyms: a three-character Chinese word also matches its characters
    in order with at most two others between two of them (物业费 ~ 物业服务费,
    业委会 ~ 业主委员会)."""
    per_term = []
    for term in q.split():
        exact = text_query(term, exact=True)
        word = normalize(term)
        if len(word) == 3 and is_cjk(word) and not ARTICLE_REF_RE.fullmatch(word):
            loose = [SpanNear2([Term(f, ch) for ch in word], slop=3) for f in FIELDS]
            exact = Or([exact, *loose])
        per_term.append(exact)
    return And(per_term)


CANDIDATES = [
    # (name, index, query builder)
    ("jieba search mode, tokens ANDed", "jieba", _jieba_query),
    ("bigrams, ANDed", "bigram", _bigram_and_query),
    ("bigrams, phrase", "bigram", _bigram_phrase_query),
    ("uni+bigrams, phrase", "ngram", _bigram_phrase_query),
    ("  + article-reference tokens", "ngram", _exact_query),
    ("  + loose 3-char words", "ngram", _loose_query),
    ("  + synonyms (chosen)", "ngram", parse_query),
]
ANALYZERS = {
    "ngram": CJKNgramTokenizer,
    "bigram": lambda: CJKNgramTokenizer(unigrams=False, article_refs=False),
    "jieba": JiebaTokenizer,
}


# -- measuring ----------------------------------------------------------------------------


def _truth(docs: list[dict], queries: list[str]) -> list[set[int]]:
    """Documents in which every query word occurs (in the opinion or its quote) as a
    substring, after the same normalisation as the index."""
    normalized = [(normalize(d["body"]), normalize(d["quote"])) for d in docs]
    truth = []
    for q in queries:
        terms = [normalize(t) for t in q.split()]
        truth.append(
            {
                i + 1
                for i, (body, quote) in enumerate(normalized)
                if all(t in body or t in quote for t in terms)
            }
        )
    return truth


def _percentile(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _dir_mb(path: str) -> float:
    return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file()) / 1e6


def _build(kind: str, docs: list[dict], root: str) -> tuple[str, float, float]:
    path = str(Path(root) / kind)
    schema = make_schema(ANALYZERS[kind]())
    Path(path).mkdir()
    ix = whoosh_index.create_in(path, schema)
    started = time.perf_counter()
    writer = ix.writer(**WRITER_OPTIONS)
    for doc in docs:
        writer.add_document(**doc)
    writer.commit()
    seconds = time.perf_counter() - started
    return path, len(docs) / seconds, _dir_mb(path)


def _measure(searcher, build, queries, truth):
    """Recall and precision against the truth; latency of the exact set (as search() does)."""
    hits_true = hits_total = truth_total = perfect = 0
    latencies = []
    differences = []
    for q, expected in zip(queries, truth, strict=True):
        query = build(q) or NullQuery
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            results = searcher.search(query, limit=None)
            len(results)
            times.append((time.perf_counter() - started) * 1000)
        latencies.append(min(times))
        # One segment written in order: document number n is opinion n + 1.
        found = {n + 1 for n in results.docs()}
        hits_true += len(found & expected)
        hits_total += len(found)
        truth_total += len(expected)
        missed, extra = len(expected - found), len(found - expected)
        perfect += not (missed or extra)
        if missed or extra:
            differences.append((missed + extra, q, len(expected), missed, extra))
    differences.sort(reverse=True)
    return {
        "recall": hits_true / truth_total if truth_total else 1.0,
        "precision": hits_true / hits_total if hits_total else 1.0,
        "exact": perfect / len(queries),
        "p50": _percentile(latencies, 50),
        "p95": _percentile(latencies, 95),
        "differences": differences[:4],
    }


def _expected_forms(searcher, docs):
    """Colloquial words a person expects to find the formal wording with."""
    pairs = [("物业费", "物业服务费"), ("业委会", "业主委员会"), ("停车费", "停车服务费")]
    rows = []
    texts = [normalize(d["body"] + "\n" + d["quote"]) for d in docs]
    for query, formal in pairs:
        with_formal = {i + 1 for i, t in enumerate(texts) if formal in t and query not in t}
        counts = []
        for build in (_exact_query, _loose_query, parse_query):
            found = {n + 1 for n in searcher.search(build(query), limit=None).docs()}
            counts.append(len(with_formal & found))
        rows.append((query, formal, len(with_formal), counts))
    return rows


THREE_CHAR_WORDS = ["物业费", "业委会", "服务费", "垃圾桶", "委员会", "管理费", "居委会"]


def _three_char_costs(searcher):
    """What each way of matching colloquial words costs on ordinary three-character words."""
    rows = []
    for word in THREE_CHAR_WORDS:
        row = []
        for build in (_exact_query, _loose_query, parse_query):
            times = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                total = len(searcher.search(build(word), limit=None))
                times.append((time.perf_counter() - started) * 1000)
            row.append((total, min(times)))
        rows.append((word, row))
    return rows


def _search_page_latency(searcher, queries, draft=None):
    latencies = []
    for q in queries:
        params = SearchParams(q=q, draft_id=draft)
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            run_search(searcher, params)
            times.append((time.perf_counter() - started) * 1000)
        latencies.append(min(times))
    return _percentile(latencies, 50), _percentile(latencies, 95)


def _update_latency(path: str, docs: list[dict], rounds: int = 20) -> tuple[float, float]:
    """Opening the index and a first search; then what a request pays to index one opinion."""
    started = time.perf_counter()
    ix = whoosh_index.open_dir(path)
    with ix.searcher() as searcher:
        run_search(searcher, SearchParams(q="物业"))
    opened = (time.perf_counter() - started) * 1000
    times = []
    for doc in docs[:rounds]:
        started = time.perf_counter()
        writer = ix.writer()
        writer.update_document(**doc)
        writer.commit()
        times.append((time.perf_counter() - started) * 1000)
    return opened, statistics.median(times)


def run(n_docs: int = DOCS, n_queries: int = 200) -> None:
    started = time.perf_counter()
    print(f"  building {n_docs} opinions from the demo drafts' vocabulary ...", flush=True)
    docs, topics = make_corpus(n_docs)
    queries = make_queries(topics, n_queries)
    lengths = [len(d["body"]) for d in docs]
    print(
        f"  {len(docs)} opinions, {min(lengths)}-{max(lengths)} chars (mean "
        f"{statistics.mean(lengths):.0f}); {len(queries)} queries of 1-3 words",
        flush=True,
    )
    truth = _truth(docs, queries)
    print(f"  substring truth: {sum(map(len, truth))} matches in all", flush=True)
    root = tempfile.mkdtemp(prefix="bench-search-")
    try:
        # Two builds at a time, one per core, to keep the benchmark near three minutes.
        print(f"  indexing with {', '.join(ANALYZERS)} (two at a time) ...", flush=True)
        with ProcessPoolExecutor(max_workers=2) as pool:
            futures = {kind: pool.submit(_build, kind, docs, root) for kind in ANALYZERS}
            built = {kind: future.result() for kind, future in futures.items()}
        for kind, (_, rate, size) in built.items():
            print(f"    {kind:7} {rate:6.0f} docs/s  {size:5.1f} MB", flush=True)
        print(
            f"\n  {'candidate':34} {'recall':>7} {'precis.':>7} {'exact q':>7} "
            f"{'p50 ms':>7} {'p95 ms':>7}"
        )
        searchers = {
            kind: whoosh_index.open_dir(path).searcher() for kind, (path, _, _) in built.items()
        }
        differences = []
        for name, kind, build in CANDIDATES:
            f = _measure(searchers[kind], build, queries, truth)
            print(
                f"  {name:34} {f['recall']:7.3f} {f['precision']:7.3f} {f['exact']:7.2f} "
                f"{f['p50']:7.1f} {f['p95']:7.1f}",
                flush=True,
            )
            differences.append((name, f["differences"]))
        print("\n  largest differences from substring matching (query: truth -missed +extra):")
        for name, rows in differences:
            text = "; ".join(f"{q} {t} -{m} +{e}" for _, q, t, m, e in rows) or "none"
            print(f"    {name.strip():32} {text}")
        print("\n  opinions with only the formal wording found by the colloquial word")
        print("  (exact / loose / synonyms):")
        for query, formal, total, counts in _expected_forms(searchers["ngram"], docs):
            print(f"    {query} -> {formal}: {' / '.join(map(str, counts))} of {total}")
        print("  three-character words, matches and ms (exact / loose / synonyms):")
        for word, row in _three_char_costs(searchers["ngram"]):
            print(f"    {word}  " + "  ".join(f"{n:5d} {ms:6.1f}" for n, ms in row))
        chosen = searchers["ngram"]
        p50, p95 = _search_page_latency(chosen, queries)
        print(f"\n  search(): exact total, 10 facets, snippets: p50 {p50:.1f} p95 {p95:.1f} ms")
        p50, p95 = _search_page_latency(chosen, queries, draft=2)
        print(f"    with a draft filter:                    p50 {p50:.1f} p95 {p95:.1f} ms")
        p50, p95 = _search_page_latency(chosen, [""] * 20)
        print(f"    empty query, all {n_docs} opinions:      p50 {p50:.1f} p95 {p95:.1f} ms")
        for searcher in searchers.values():
            searcher.close()
        opened, median = _update_latency(built["ngram"][0], docs)
        print(f"  opening a searcher and a first search: {opened:.0f} ms")
        print(f"  update_document + commit of one opinion (median of 20): {median:.1f} ms")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"  total {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    run()
