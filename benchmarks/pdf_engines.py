"""The two PDF engines of the nbconvert path on the same finished report HTML: WeasyPrint
(``render_pdf``, renderer ``nbconvert``) and Typst (``render_pdf_typst``, renderer ``typst``).

Each report HTML is laid out once by each engine as a warm-up (the first layout in a process
pays for fonts, style sheets, the compiler), then both engines alternately for ``--rounds``
rounds. Printed: CPU seconds of this process per PDF (``time.process_time``: other work on a
shared machine changes it much less than wall time), median over the rounds, per report and
in all, and the ratio WeasyPrint / Typst.

The report HTML files are given as arguments (``report.html`` of a rendered report, e.g. from
``evaltools run params/demo/<grantee>.yml --renderer nbconvert``); the report's title block
facts are read from the HTML's frame (grantee, intervention, period are only used for the page
header and footer).

    .venv/bin/python benchmarks/pdf_engines.py reports/*/report.html --rounds 5
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bs4 import BeautifulSoup

from evaltools.render.meta import ReportMeta
from evaltools.render.pdf import render_pdf
from evaltools.render.pdf_typst import render_pdf_typst


def _meta(html: str) -> ReportMeta:
    """Title block facts good enough for the running head (from the HTML's title block)."""
    soup = BeautifulSoup(html, "html.parser")
    title = soup.select_one(".report-title")
    grantee = soup.select_one(".report-meta__grantee dd")
    period = soup.select_one(".report-meta__period dd")
    return ReportMeta(
        grantee=grantee.get_text(strip=True) if grantee else "-",
        intervention=title.get_text(strip=True) if title else "-",
        period=period.get_text(strip=True) if period else "-",
        date=dt.date(2026, 12, 7),
        language="en" if 'lang="en"' in html[:500] else "da",
    )


def _cpu(engine, html: str, target: Path, meta: ReportMeta) -> float:
    start = time.process_time()
    engine(html, target, meta=meta)
    return time.process_time() - start


def main() -> None:
    """Time both engines on the given report HTML files and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html", nargs="+", type=Path, help="finished report.html files")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    engines = {"weasyprint": render_pdf, "typst": render_pdf_typst}
    reports = [(p, p.read_text(encoding="utf-8")) for p in args.html]
    times: dict[tuple[str, str], list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="evaltools-pdf-engines-") as folder:
        out = Path(folder)
        for name, engine in engines.items():  # warm-up: one layout each
            for _path, html in reports:
                _cpu(engine, html, out / f"{name}.pdf", _meta(html))
        for _round in range(args.rounds):
            for path, html in reports:
                for name, engine in engines.items():
                    seconds = _cpu(engine, html, out / f"{name}.pdf", _meta(html))
                    times.setdefault((str(path), name), []).append(seconds)
    print(f"CPU seconds per PDF, median of {args.rounds} rounds (after one warm-up each)")
    print(f"{'report':60} {'weasyprint':>10} {'typst':>8} {'ratio':>6}")
    totals = {name: 0.0 for name in engines}
    for path, _html in reports:
        row = {name: statistics.median(times[(str(path), name)]) for name in engines}
        for name in engines:
            totals[name] += row[name]
        ratio = row["weasyprint"] / row["typst"]
        print(f"{str(path)[-60:]:60} {row['weasyprint']:10.3f} {row['typst']:8.3f} {ratio:6.1f}")
    n = len(reports)
    mean = {name: totals[name] / n for name in engines}
    print(
        f"{'mean per PDF':60} {mean['weasyprint']:10.3f} {mean['typst']:8.3f} "
        f"{mean['weasyprint'] / mean['typst']:6.1f}"
    )


if __name__ == "__main__":
    main()
