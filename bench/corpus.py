"""The synthetic opinion corpus shared by bench/search.py and bench/searchperf.py.

Opinions of 50-400 characters built from the demo drafts' vocabulary (words harvested with
jieba), article references in every spelling, air-pollution terms, PM2.5 and 12345 热线 in
full- and half-width forms, colloquial words (物业费, 业委会), with plausible metadata; and
1-3 word queries of the kinds drafters type.
"""

from __future__ import annotations

import collections
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from portal.numerals import int_to_chinese
from portal.search.analysis import load_jieba

DEMO = Path(__file__).resolve().parent.parent / "portal" / "demo" / "drafts"
DOCS = 10_000
SEED = 20261122

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


def percentile(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def dir_mb(path: str | Path) -> float:
    """Size of the files directly in a directory, in MB."""
    return sum(f.stat().st_size for f in Path(path).iterdir() if f.is_file()) / 1e6
