"""Office-file bombs and large legitimate uploads: time and peak memory to refuse or accept.

Four files are built in a temporary folder: an .xlsx whose sharedStrings.xml inflates to about
200 MB, a .docx whose document.xml inflates to about 99 MB (both just under the old declared-size
caps of 200 MiB and 100 MB), a 10,000-row liaison sheet made from the download template, and a
long draft regulation as .docx. Each is read in its own subprocess, so peaks never mix, two ways:

- before: what the import did until issue 11 (openpyxl read-only over every row; python-docx
  over every paragraph), killed after ``OFFICEBOMB_TIMEOUT`` seconds (default 60);
- after: the portal's entry points (``read_upload``; ``importer.read_docx``), which call
  portal/officefiles.py first.

Peak memory is the child's VmHWM (peak resident set), read from /proc while it runs so a killed
child still has a figure; "+" is the growth over the interpreter with its imports loaded.
"""

from __future__ import annotations

import io
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ARTICLES = set(range(1, 121))
TIMEOUT = float(os.environ.get("OFFICEBOMB_TIMEOUT", "60"))
_SHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_WORD_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


# --- building the files ----------------------------------------------------------------------


def _replace_part(source: bytes, target: Path, name: str, chunks) -> None:
    """Copy a zip, writing part ``name`` from ``chunks`` (streamed: never all in memory)."""
    with (
        zipfile.ZipFile(io.BytesIO(source)) as old,
        zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as new,
    ):
        for info in old.infolist():
            if info.filename == name:
                continue
            new.writestr(info.filename, old.read(info))
        info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        with new.open(info, "w") as part:
            for chunk in chunks:
                part.write(chunk)


_XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
        'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
        'worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{_SHEET_NS}" xmlns:r="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships"><sheets><sheet name="意见" sheetId="1" '
        'r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'sharedStrings" Target="sharedStrings.xml"/></Relationships>'
    ),
    "xl/worksheets/sheet1.xml": (
        f'<worksheet xmlns="{_SHEET_NS}"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c>'
        '</row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>'
    ),
}


def _xlsx_package(shared_strings: bytes = b"") -> bytes:
    """A minimal valid .xlsx (one sheet, shared strings) as bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in _XLSX_PARTS.items():
            archive.writestr(name, text)
        archive.writestr("xl/sharedStrings.xml", shared_strings)
    return out.getvalue()


def build_xlsx_bomb(target: Path, inflated: int = 205 * 1024 * 1024) -> None:
    """A valid sheet (header + one opinion) whose shared strings are ~``inflated`` bytes."""
    # Each string is its own object in openpyxl's table; the padding (full-width spaces, as a
    # careless export leaves them) brings the ratio near the ~400:1 of the file in issue 11.
    text = "建议增加物业服务企业公示公共收益收支情况的规定，方便业主监督。" + "\u3000" * 1000

    def chunks():
        yield (
            f'<?xml version="1.0" encoding="UTF-8"?>\n<sst xmlns="{_SHEET_NS}">'
            "<si><t>意见内容</t></si><si><t>建议第一条增加公示规定。</t></si>"
        ).encode()
        size, number, batch = 0, 0, []
        while size < inflated:
            number += 1
            item = f"<si><t>{number}{text}</t></si>".encode()
            batch.append(item)
            size += len(item)
            if len(batch) == 2000:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch) + b"</sst>"

    _replace_part(_xlsx_package(), target, "xl/sharedStrings.xml", chunks())


def build_docx_bomb(target: Path, inflated: int = 99_000_000) -> None:
    """A .docx whose document.xml is ~``inflated`` bytes of short numbered paragraphs."""
    from docx import Document

    out = io.BytesIO()
    Document().save(out)
    # Numbered every 100th paragraph only: the ratio nears the ~350:1 of the file in issue 11.
    para = "<w:p><w:r><w:t>第{n}条　本条例自公布之日起施行。</w:t></w:r></w:p>"
    plain = "<w:p><w:r><w:t>本条例自公布之日起施行。</w:t></w:r></w:p>".encode()

    def chunks():
        yield (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:document xmlns:w="{_WORD_NS}"><w:body>'
        ).encode()
        size, number, batch = 0, 0, []
        while size < inflated:
            number += 1
            item = para.format(n=number).encode() if number % 100 == 0 else plain
            batch.append(item)
            size += len(item)
            if len(batch) == 2000:
                yield b"".join(batch)
                batch = []
        yield b"".join(batch) + b"<w:sectPr/></w:body></w:document>"

    _replace_part(out.getvalue(), target, "word/document.xml", chunks())


def build_large_sheet(target: Path, rows: int = 10_000, articles: list[int] | None = None) -> None:
    """The download template with its example row replaced by ``rows`` realistic opinions.

    ``articles``: the draft's article numbers, when not the bench's 1-120 (the tests' drafts).
    """
    from openpyxl import load_workbook

    from bench.spreadsheet import _table
    from portal.liaison.spreadsheet import build_template
    from portal.numerals import int_to_chinese

    table = _table(random.Random(20240601))  # noqa: S311  (repeatable test data)
    table = (table * (rows // len(table) + 1))[:rows]
    numbers = articles or sorted(ARTICLES)
    wb = load_workbook(io.BytesIO(build_template(numbers, "江州市物业管理条例（草案）")))
    ws = wb["意见"]
    for number, row in enumerate(table, start=2):
        if articles is not None:
            row = [row[0], f"第{int_to_chinese(numbers[number % len(numbers)])}条", *row[2:]]
        for column, value in enumerate(row, start=1):
            ws.cell(row=number, column=column, value=value)
    wb.save(target)


def build_long_draft(target: Path, chapters: int = 12, per_chapter: int = 20) -> None:
    """A real-looking draft regulation: chapters, articles with 款 and 项, about 150,000 chars."""
    from docx import Document

    from portal.numerals import int_to_chinese

    rng = random.Random(11)  # noqa: S311  (repeatable test data)
    clauses = [
        "物业服务企业应当按照物业服务合同的约定，提供相应的服务",
        "业主大会应当依法履行职责，维护全体业主的合法权益",
        "街道办事处、乡镇人民政府应当指导和监督业主大会、业主委员会的日常活动",
        "市、区住房城乡建设主管部门负责本行政区域内物业管理活动的监督管理工作",
        "专项维修资金的交存、使用、管理和监督，依照国家和本省有关规定执行",
        "任何单位和个人不得擅自占用、挖掘物业管理区域内的道路、场地",
    ]
    document = Document()
    document.add_heading("江州市物业管理条例（草案）", level=0)
    article = 0
    for chapter in range(1, chapters + 1):
        document.add_paragraph(f"第{int_to_chinese(chapter)}章　总则与管理规定")
        for _ in range(per_chapter):
            article += 1
            body = "；".join(rng.choice(clauses) for _ in range(rng.randint(3, 6)))
            document.add_paragraph(f"第{int_to_chinese(article)}条　{body}。")
            for item in range(1, rng.randint(2, 5)):
                text = "；".join(rng.choice(clauses) for _ in range(rng.randint(2, 4)))
                document.add_paragraph(f"（{int_to_chinese(item)}）{text}；")
    document.save(target)


# --- one case, in a child process ------------------------------------------------------------


def _peak_kib() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
    return _vm_hwm_kib(os.getpid()) or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _child(mode: str, kind: str, path: str) -> None:
    """Read one file one way; print a JSON line with the outcome."""
    data = Path(path).read_bytes()
    if kind == "xlsx":
        import openpyxl  # noqa: F401

        from portal.liaison import spreadsheet
    else:
        import docx  # noqa: F401

        from portal.drafts import importer
    baseline = _peak_kib()
    started = time.perf_counter()
    if mode == "before":
        outcome = _before(kind, data)
    elif kind == "xlsx":
        result = spreadsheet.read_upload(Path(path).name, data, article_numbers=ARTICLES)
        if result.ok:
            outcome = f"accepted, {len(result.rows)} rows"
        else:
            outcome = "refused: " + spreadsheet.error_message(result.errors[0])
    else:
        from portal.drafts.parser import DraftParseError, parse_draft_text
        from portal.officefiles import OfficeFileError

        try:
            text = importer.read_docx(io.BytesIO(data), max_bytes=5 * 1024 * 1024)
            parsed = parse_draft_text(text)
            outcome = f"accepted, {len(parsed.articles)} articles, {len(text)} chars"
        except OfficeFileError as error:
            outcome = "refused: " + error.message()
        except DraftParseError as error:
            outcome = "refused: " + importer.parse_error_message(error)
    seconds = time.perf_counter() - started
    check = None
    if mode == "after":  # the share of portal/officefiles.py, timed again on its own
        from portal import officefiles

        began = time.perf_counter()
        try:
            (officefiles.check_xlsx if kind == "xlsx" else officefiles.check_docx)(data)
        except officefiles.OfficeFileError:
            pass
        check = time.perf_counter() - began
    print(
        json.dumps(
            {
                "seconds": seconds,
                "check_seconds": check,
                "outcome": outcome,
                "baseline_kib": baseline,
                "self_peak_kib": _peak_kib(),
            }
        )
    )


def _before(kind: str, data: bytes) -> str:
    """The old path: the parser straight on the file (the bombs pass the old declared caps)."""
    if kind == "xlsx":
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        ws = wb["意见"] if "意见" in wb.sheetnames else wb.worksheets[0]
        ws.reset_dimensions()
        rows = sum(1 for _ in ws.iter_rows(values_only=True))
        wb.close()
        return f"accepted, {rows} rows read"
    import docx

    document = docx.Document(io.BytesIO(data))
    paragraphs = sum(1 for _ in document.element.body.iterchildren())
    return f"accepted, {paragraphs} paragraphs read"


def _vm_hwm_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def measure(mode: str, kind: str, path: Path) -> dict:
    """Run one case in a subprocess, killed after TIMEOUT seconds."""
    process = subprocess.Popen(  # noqa: S603  (our own interpreter and module)
        [sys.executable, "-m", "bench.officebomb", "--child", mode, kind, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    started = time.perf_counter()
    peak = 0
    while process.poll() is None:
        peak = max(peak, _vm_hwm_kib(process.pid) or 0)
        if time.perf_counter() - started > TIMEOUT:
            process.kill()
            process.wait()
            return {"killed": True, "seconds": TIMEOUT, "peak_kib": peak}
        time.sleep(0.05)
    out, err = process.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode != 0 or not lines:
        return {"error": (err.strip().splitlines() or ["?"])[-1], "peak_kib": peak}
    result = json.loads(lines[-1])
    # Polling every 50 ms can miss a short peak; the child's own ru_maxrss cannot.
    result["peak_kib"] = max(peak, result.pop("self_peak_kib"))
    return result


def _fmt(result: dict) -> str:
    peak = result.get("peak_kib", 0) / 1024
    if result.get("killed"):
        return f"> {result['seconds']:.0f} s, > {peak / 1024:.2f} GiB (killed)"
    if "error" in result:
        return f"error: {result['error']} (peak {peak:.0f} MB)"
    grown = peak - result.get("baseline_kib", 0) / 1024
    check = result.get("check_seconds")
    share = f" (check {check:.2f} s)" if check is not None else ""
    return (
        f"{result['seconds']:7.2f} s{share}, peak {peak:6.0f} MB (+{grown:.0f} MB) — "
        f"{result['outcome'][:90]}"
    )


def run(modes: tuple[str, ...] = ("before", "after")) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        files = {
            "xlsx bomb": ("xlsx", folder / "bomb.xlsx", build_xlsx_bomb),
            "docx bomb": ("docx", folder / "bomb.docx", build_docx_bomb),
            "10,000-row sheet": ("xlsx", folder / "opinions.xlsx", build_large_sheet),
            "long draft .docx": ("docx", folder / "draft.docx", build_long_draft),
        }
        for label, (kind, path, build) in files.items():
            build(path)
            with zipfile.ZipFile(path) as archive:
                inflated = sum(info.file_size for info in archive.infolist())
            print(
                f"  {label}: {path.stat().st_size / 1024:.0f} KB, inflates to "
                f"{inflated / 1024 / 1024:.1f} MB"
            )
            for mode in modes:
                print(f"    {mode:6} {_fmt(measure(mode, kind, path))}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        _child(*sys.argv[2:5])
    else:
        run(tuple(sys.argv[1:]) or ("before", "after"))
