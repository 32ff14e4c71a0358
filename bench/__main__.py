"""Run every benchmark and print its figures: `python -m bench [name ...]`."""

import importlib
import sys

BENCHMARKS = [
    "parser",
    "spreadsheet",
    "officebomb",
    "search",
    "searchperf",
    "searchpg",
    "clustering",
    "report",
    "pages",
]


def main(names: list[str]) -> None:
    for name in names or BENCHMARKS:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}: {module.__doc__.strip().splitlines()[0]}")
        module.run()


if __name__ == "__main__":
    main(sys.argv[1:])
