"""Parsing a draft: the demo drafts and the largest text the importer accepts."""

import statistics
import time
from pathlib import Path

from portal.drafts.parser import MAX_CHARS, parse_draft_text
from portal.numerals import int_to_chinese

DEMO = Path(__file__).resolve().parent.parent / "portal" / "demo" / "drafts"


def _largest_text() -> str:
    body = "本条规定的内容较长，用于测试解析性能。" * 3
    lines = []
    for n in range(1, 3001):
        if n % 100 == 1:
            lines.append(f"第{int_to_chinese(n // 100 + 1)}章　第{n // 100 + 1}章")
        lines.append(f"第{int_to_chinese(n)}条　{body}")
        lines.append(f"依照第{int_to_chinese(n)}条第二款规定，{body}")
    return "\n".join(lines)[:MAX_CHARS]


def _time(text: str, repeat: int = 7) -> tuple[float, int]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        parsed = parse_draft_text(text)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000, len(parsed.articles)


def run() -> None:
    for path in sorted(DEMO.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        ms, articles = _time(text)
        print(f"  {path.name:20} {len(text):>8} chars {articles:>5} articles  {ms:8.2f} ms")
    text = _largest_text()
    ms, articles = _time(text)
    print(f"  {'largest accepted':20} {len(text):>8} chars {articles:>5} articles  {ms:8.2f} ms")


if __name__ == "__main__":
    run()
