"""Near-duplicate opinions (雷同意见): form letters grouped by MinHash/LSH and stored as clusters.

A campaign of copied, lightly edited opinions is counted and decided as one cluster, so it is
visible without drowning the rest. :func:`find_groups` is the pure algorithm (ids and texts in,
groups out; benchmarked by ``bench/clustering.py``); :func:`recluster_draft` stores its result.

Texts are compared as sets of 3-grams of a normalised form (half-width, lower case, 第12条 as
第十二条, no whitespace or punctuation; a Chinese character or a run of Latin letters or digits
is one unit). MinHash signatures and an LSH index propose candidate pairs; each candidate is
confirmed with the exact Jaccard similarity of the two sets, so LSH's false positives never
merge anything; clusters are the connected components (union-find). A false merge is worse than
a missed copy (one decision would answer different opinions), so the rules lean to precision:

- texts under MIN_CHARS normalised characters ("同意" vs "不同意") group only when identical;
- texts under SHORT_TEXT characters need MIN_JACCARD_SHORT, where one changed word is a
  different opinion (建议删除第十五条 / 第十六条);
- two texts that cite articles, but no article in common, are never merged.

Measured by bench/clustering.py on 20,000 synthetic opinions with seven planted campaigns of
50-2,000 edited copies (2 cores, shared machine): about 8 s for find_groups, no opinion wrongly
merged, 42 of 4,280 campaign copies missed (39 of them edited copies of a 30-character letter).
"""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH
from sqlalchemy import func, select

from portal.comments.services import CommentRejected, record_decision, staff_visible
from portal.extensions import db
from portal.models import Comment, CommentStatus, Decision, DuplicateCluster, User
from portal.numerals import find_article_refs, normalize_article_refs, normalize_width
from portal.sanitize import clean_text

__all__ = [
    "ClusterReport",
    "ClusterView",
    "apply_decision_to_cluster",
    "cited_articles",
    "cluster_counts",
    "cluster_members",
    "clusters_for_draft",
    "find_groups",
    "jaccard",
    "normalize_text",
    "recluster_draft",
    "required_jaccard",
    "shingles",
    "signature",
]

# Chosen with `python -m bench.clustering sweep`: 2-grams merged distinct opinions, 4- and
# 5-grams missed more copies; 64 permutations did as well as 128 but estimate more coarsely.
SHINGLE = 3
NUM_PERM = 128
# The LSH index proposes pairs whose estimated Jaccard similarity is likely above this; set a
# little below MIN_JACCARD so that borderline true pairs are still proposed and then verified.
LSH_THRESHOLD = 0.6
# Two opinions are near-duplicates when their 3-gram sets have at least this Jaccard similarity.
MIN_JACCARD = 0.7
MIN_CHARS = 15
# Below this many normalised characters the bar is higher (see required_jaccard).
SHORT_TEXT = 50
MIN_JACCARD_SHORT = 0.8
SEED = 1

# Everything that is not a letter or digit of some script: whitespace, punctuation, symbols.
_NOISE_RE = re.compile(r"[\W_]+")
_WORD_RE = re.compile(r"[0-9a-z]")
_UNIT_RE = re.compile(r"[0-9a-z]+|.", re.S)


def normalize_text(text: str) -> str:
    """The form compared for duplicates: NFKC (full-width to half-width), lower case, 第12条 as
    第十二条, and only letters and digits: punctuation, spacing and width variants are equal."""
    return _NOISE_RE.sub("", normalize_article_refs(normalize_width(text).lower()))


def shingles(normalized: str, k: int = SHINGLE) -> frozenset[int]:
    """The k-grams of a normalised text as 32-bit hashes (CRC-32: fast and stable across
    processes, unlike hash(); a collision merely adds a shared shingle).

    A Chinese character is one unit, a run of Latin letters or digits another: 100元 and
    1000元 then share no shingle, while as characters they would share all of 100元's.
    """
    if _WORD_RE.search(normalized):
        units = _UNIT_RE.findall(normalized)
        grams = ["".join(units[i : i + k]) for i in range(max(len(units) - k + 1, 1))]
    else:
        grams = [normalized[i : i + k] for i in range(max(len(normalized) - k + 1, 1))]
    return frozenset(zlib.crc32(gram.encode()) for gram in grams)


def _identity(value: int) -> int:
    return value


class _UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return ra
        # The smaller index stays the root: deterministic, and the earliest text represents.
        if rb < ra:
            ra, rb = rb, ra
        self.parent[rb] = ra
        return ra


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if len(a) > len(b):
        a, b = b, a
    common = len(a & b)
    return common / (len(a) + len(b) - common)


def cited_articles(normalized: str) -> frozenset[int]:
    return frozenset(ref.article for ref in find_article_refs(normalized))


def required_jaccard(length: int, min_jaccard: float = MIN_JACCARD) -> float:
    """The similarity two texts need, by the shorter one's normalised length: in a short text
    one changed word is a different opinion (建议删除第十五条 / 第十六条), in a letter of a
    hundred characters it is a light edit."""
    return max(min_jaccard, MIN_JACCARD_SHORT) if length < SHORT_TEXT else min_jaccard


def find_groups(
    items: Iterable[tuple[int, str]],
    *,
    min_jaccard: float = MIN_JACCARD,
    lsh_threshold: float = LSH_THRESHOLD,
    num_perm: int = NUM_PERM,
    k: int = SHINGLE,
) -> list[list[int]]:
    """Group near-duplicate texts: [(id, text)] in, groups of two or more ids out.

    Each group lists its ids in input order; groups come largest first (ties: earliest first).
    Pass the items oldest first so that a group's first id is its earliest opinion.
    """
    ids: list[int] = []
    # Exactly equal normalised texts are grouped without any hashing: a campaign's verbatim
    # copies cost one MinHash, and short texts are only ever grouped this way.
    by_text: dict[str, int] = {}
    texts: list[str] = []
    members: list[list[int]] = []
    for comment_id, text in items:
        normalized = normalize_text(text)
        ids.append(comment_id)
        slot = by_text.get(normalized)
        if slot is None:
            slot = by_text[normalized] = len(texts)
            texts.append(normalized)
            members.append([])
        members[slot].append(len(ids) - 1)

    union = _UnionFind(len(texts))
    long_slots = [i for i, text in enumerate(texts) if len(text) >= MIN_CHARS]
    if len(long_slots) > 1:
        sets = {i: shingles(texts[i], k) for i in long_slots}
        articles = {i: cited_articles(texts[i]) for i in long_slots}
        template = MinHash(num_perm=num_perm, seed=SEED, hashfunc=_identity)
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=num_perm)
        for i in long_slots:
            sketch = template.copy()
            sketch.update_batch(np.fromiter(sets[i], dtype=np.uint32, count=len(sets[i])))
            # Query before inserting: each pair is proposed once, by its later member.
            root = union.find(i)
            size, length, cited = len(sets[i]), len(texts[i]), articles[i]
            for j in lsh.query(sketch):
                other = union.find(j)
                if other == root:
                    continue
                needed = required_jaccard(min(length, len(texts[j])), min_jaccard)
                other_size = len(sets[j])
                # |A∩B|/|A∪B| <= min/max: a cheap bound that skips most false candidates.
                if min(size, other_size) < needed * max(size, other_size):
                    continue
                # Letters about different articles are different opinions, however alike.
                if cited and articles[j] and cited.isdisjoint(articles[j]):
                    continue
                if jaccard(sets[i], sets[j]) >= needed:
                    root = union.union(root, other)
            lsh.insert(i, sketch, check_duplication=False)

    grouped: dict[int, list[int]] = defaultdict(list)
    for slot in range(len(texts)):
        grouped[union.find(slot)].extend(members[slot])
    groups = [sorted(positions) for positions in grouped.values() if len(positions) > 1]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return [[ids[p] for p in group] for group in groups]


# --- stored clusters ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterReport:
    """What one reclustering found and did."""

    comments: int  # staff-visible opinions compared
    clusters: int
    clustered: int  # opinions that belong to a cluster
    largest: int
    changed: int  # opinions whose cluster changed (each got an index job)
    seconds: float


def signature(normalized: str) -> str:
    """A stable fingerprint of a cluster: the hash of its earliest opinion's normalised text."""
    return hashlib.blake2b(normalized.encode(), digest_size=16).hexdigest()


def _match_old_clusters(
    groups: list[list[int]], current: dict[int, int], old_ids: set[int]
) -> dict[int, int]:
    """{group index: old cluster id}: each old cluster goes to the new group that holds most of
    its members, so a cluster keeps its id (and its links and index facet) across runs."""
    overlaps = []
    for index, group in enumerate(groups):
        counts: dict[int, int] = defaultdict(int)
        for comment_id in group:
            cluster_id = current.get(comment_id)
            if cluster_id in old_ids:
                counts[cluster_id] += 1
        overlaps.extend((-n, index, cluster_id) for cluster_id, n in counts.items())
    overlaps.sort()
    kept: dict[int, int] = {}
    used: set[int] = set()
    for _, index, cluster_id in overlaps:
        if index not in kept and cluster_id not in used:
            kept[index] = cluster_id
            used.add(cluster_id)
    return kept


def recluster_draft(draft_id: int) -> ClusterReport:
    """Recompute the duplicate clusters of one draft's staff-visible opinions.

    Clusters that survive keep their row and id; the others are deleted. Every opinion whose
    cluster changed is updated and queued for the index. Flushes; the caller commits.
    """
    started = time.perf_counter()
    rows = db.session.execute(
        select(Comment.id, Comment.body)
        .where(Comment.draft_id == draft_id, staff_visible())
        .order_by(Comment.created_at, Comment.id)
    ).all()
    groups = find_groups((row.id, row.body) for row in rows)
    bodies = {row.id: row.body for row in rows}

    # Every comment of the draft that is in a cluster now, visible or not: a batch returned to
    # its point must not keep a cluster the team can no longer see.
    current: dict[int, int] = dict(
        db.session.execute(
            select(Comment.id, Comment.cluster_id).where(
                Comment.draft_id == draft_id, Comment.cluster_id.is_not(None)
            )
        ).all()
    )
    old = {
        cluster.id: cluster
        for cluster in db.session.scalars(
            select(DuplicateCluster).where(DuplicateCluster.draft_id == draft_id)
        )
    }
    kept = _match_old_clusters(groups, current, set(old))

    clusters: list[DuplicateCluster] = []
    for index, group in enumerate(groups):
        cluster = old[kept[index]] if index in kept else DuplicateCluster(draft_id=draft_id)
        cluster.size = len(group)
        cluster.signature = signature(normalize_text(bodies[group[0]]))
        if index not in kept:
            db.session.add(cluster)
        clusters.append(cluster)
    db.session.flush()

    target = {i: cluster for cluster, group in zip(clusters, groups, strict=True) for i in group}
    changed = sorted(
        {i for i, cluster in target.items() if current.get(i) != cluster.id}
        | {i for i in current if i not in target}
    )
    for start in range(0, len(changed), 500):
        chunk = changed[start : start + 500]
        for comment in db.session.scalars(select(Comment).where(Comment.id.in_(chunk))):
            # Through the relationship, so both sides stay right in this session.
            comment.cluster = target.get(comment.id)
    db.session.flush()

    gone = [cluster_id for cluster_id in old if cluster_id not in kept.values()]
    for cluster_id in gone:
        db.session.delete(old[cluster_id])
    db.session.flush()
    return ClusterReport(
        comments=len(rows),
        clusters=len(groups),
        clustered=len(target),
        largest=len(groups[0]) if groups else 0,
        changed=len(changed),
        seconds=time.perf_counter() - started,
    )


def cluster_counts(draft_id: int) -> tuple[int, int]:
    """(opinions, distinct opinions): a cluster of copies counts once among the distinct."""
    total, in_clusters, clusters = db.session.execute(
        select(
            func.count(Comment.id),
            func.count(Comment.cluster_id),
            func.count(Comment.cluster_id.distinct()),
        ).where(Comment.draft_id == draft_id, staff_visible())
    ).one()
    return total, total - in_clusters + clusters


@dataclass(frozen=True)
class ClusterView:
    cluster: DuplicateCluster
    size: int  # staff-visible members now
    representative: Comment  # the earliest opinion of the cluster
    decided: int  # members with a decision


def clusters_for_draft(draft_id: int, limit: int = 50) -> list[ClusterView]:
    """The draft's clusters, largest first, each with its earliest opinion."""
    visible = (Comment.draft_id == draft_id) & Comment.cluster_id.is_not(None) & staff_visible()
    counts = db.session.execute(
        select(
            Comment.cluster_id,
            func.count(Comment.id).label("size"),
            func.count(Comment.decision).label("decided"),
        )
        .where(visible)
        .group_by(Comment.cluster_id)
        .order_by(func.count(Comment.id).desc(), Comment.cluster_id)
        .limit(limit)
    ).all()
    if not counts:
        return []
    ids = [row.cluster_id for row in counts]
    ranked = (
        select(
            Comment.id,
            func.row_number()
            .over(partition_by=Comment.cluster_id, order_by=(Comment.created_at, Comment.id))
            .label("rank"),
        )
        .where(visible, Comment.cluster_id.in_(ids))
        .subquery()
    )
    first = {
        comment.cluster_id: comment
        for comment in db.session.scalars(
            select(Comment).join(ranked, ranked.c.id == Comment.id).where(ranked.c.rank == 1)
        )
    }
    clusters = {
        cluster.id: cluster
        for cluster in db.session.scalars(
            select(DuplicateCluster).where(DuplicateCluster.id.in_(ids))
        )
    }
    return [
        ClusterView(clusters[row.cluster_id], row.size, first[row.cluster_id], row.decided)
        for row in counts
    ]


def cluster_members(cluster: DuplicateCluster) -> list[Comment]:
    """The staff-visible opinions of a cluster, earliest first."""
    return list(
        db.session.scalars(
            select(Comment)
            .where(Comment.cluster_id == cluster.id, staff_visible())
            .order_by(Comment.created_at, Comment.id)
        )
    )


def apply_decision_to_cluster(
    cluster: DuplicateCluster,
    *,
    actor: User,
    decision: Decision,
    response: str,
    publish: bool,
) -> int:
    """Decide every opinion of a cluster alike, each through record_decision (its own audit
    entry and index job); members that already have exactly this outcome are left alone.
    Returns how many changed. Flushes; the caller commits."""
    response = clean_text(response)
    if publish and not response:
        raise CommentRejected("publish_needs_decision", "response")
    changed = 0
    for comment in cluster_members(cluster):
        if (
            comment.decision == decision
            and comment.response == response
            and (comment.response_published_at is not None) == publish
        ):
            continue
        record_decision(
            comment,
            actor=actor,
            status=CommentStatus.decided,
            decision=decision,
            response=response,
            publish=publish,
        )
        changed += 1
    return changed
