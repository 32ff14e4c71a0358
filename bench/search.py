"""Opinion search: Chinese analyzers compared on recall, precision and speed at 10,000 opinions."""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.query import And, NullQuery, Or, Phrase, Query, Term
from whoosh.query.spans import SpanNear2

from bench.corpus import DOCS, dir_mb, make_corpus, make_queries, percentile
from portal.search.analysis import (
    ARTICLE_REF_RE,
    CJKNgramTokenizer,
    JiebaTokenizer,
    is_cjk,
    normalize,
    query_tokens,
)
from portal.search.index import WRITER_OPTIONS, make_schema
from portal.search.query import SearchParams, parse_query, run_search, text_query

FIELDS = ("body", "quote")
# Each query runs this often and its fastest time counts: the machine is shared, and another
# process's burst should not decide between two analyzers.
REPEAT = 2

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
    return path, len(docs) / seconds, dir_mb(path)


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
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
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
    return percentile(latencies, 50), percentile(latencies, 95)


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
