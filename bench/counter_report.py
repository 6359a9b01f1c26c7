"""Figures and the Markdown report of the counter benchmark (``bench.bench_counter``).

Why apart: the runner measures, this module only counts — error rates per page (NFC, whitespace
collapsed: ``bench.bench_pipeline.error_rates``), their means and medians by page family and by
damage, the per-document fixed cost (the intercept of time against pages, least squares over the
documents), what each tool read on blank backs, and the issue's four targets.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.bench_pipeline import error_rates, normalise
from bench.counter_corpus import CounterDoc

TARGETS = "per-document CLI ≥ 4× OCRmyPDF's docs/min; CPU/page ≤ 2× raw Tesseract's; daemon ≥ 0.9× batch; " \
          "CER ≤ ½ OCRmyPDF's at equal Tesseract versions"


def _stats(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "mean": round(statistics.mean(values), 4), "median": round(statistics.median(values), 4)}


def _fit(pages: list[int], values: list[float]) -> dict[str, float]:
    """value ≈ fixed + per_page × pages over the documents (needs two page counts)."""
    if len(set(pages)) < 2:
        return {}
    per_page, fixed = np.polyfit(np.array(pages, float), np.array(values, float), 1)
    return {"fixed_s": round(float(fixed), 3), "per_page_s": round(float(per_page), 3)}


def _tool(docs: list[CounterDoc], runs: list[dict[str, object]]) -> dict[str, object]:
    pages = sum(len(d.pages) for d in docs)
    wall = sum(float(r["wall_s"]) for r in runs)
    cpu = sum(float(r["cpu_s"]) for r in runs)
    counts = [int(r["pages"]) for r in runs]
    cer, wer, layer, per_page = [], [], [], []
    by_family: dict[str, list[float]] = defaultdict(list)
    by_tag: dict[str, list[float]] = defaultdict(list)
    by_face: dict[str, list[float]] = defaultdict(list)
    blank = {"pages": 0, "reached_ocr": 0, "pages_with_text": 0, "chars": 0, "samples": []}
    rotations = []
    for doc, run in zip(docs, runs, strict=True):
        texts = list(run["texts"]) + [""] * (len(doc.pages) - len(run["texts"]))  # type: ignore[arg-type]
        reached = list(run.get("ocr_reached", [False] * len(doc.pages)))  # type: ignore[arg-type]
        for n, (page, text) in enumerate(zip(doc.pages, texts, strict=False)):
            if page.family == "blank":
                found = normalise(text)
                blank["pages"] += 1
                blank["reached_ocr"] += bool(n < len(reached) and reached[n])
                blank["chars"] += len(found)
                if found:
                    blank["pages_with_text"] += 1
                    blank["samples"].append(found[:60])
                continue
            c, w = error_rates(page.text, text)
            if "layer_texts" in run and n < len(run["layer_texts"]):  # type: ignore[arg-type]
                layer.append(error_rates(page.text, run["layer_texts"][n])[0])  # type: ignore[index]
            cer.append(c)
            wer.append(w)
            per_page.append([doc.name[-4:], n + 1, page.family, page.face, " ".join(page.tags), round(c, 4)])
            by_family[page.family].append(c)
            by_face[page.face].append(c)
            for tag in page.tags or ["clean"]:
                by_tag[tag].append(c)
            turns = [t for t in page.tags if t.startswith("rot")]
            if turns and "rotation" in run:
                rotations.append({"doc": doc.name, "page": n + 1, "turned": turns[0],
                                  "sohoa_rotation": run["rotation"][n] if n < len(run["rotation"]) else None,
                                  "cer": round(c, 4)})
    out: dict[str, object] = {
        "docs": len(docs), "pages": pages, "wall_s": round(wall, 1), "docs_per_min": round(len(docs) / wall * 60, 2),
        "pages_per_min": round(pages / wall * 60, 2), "cpu_s_per_page": round(cpu / pages, 3),
        "cpu_s_per_doc": round(cpu / len(docs), 3), "failed_docs": sum(1 for r in runs if r["rc"]),
        "wall_fit": _fit(counts, [float(r["wall_s"]) for r in runs]),
        "cpu_fit": _fit(counts, [float(r["cpu_s"]) for r in runs]),
        "cer": _stats(cer), "wer": _stats(wer), "cer_text_layer": _stats(layer),
        "cer_by_family": {k: _stats(v) for k, v in sorted(by_family.items())},
        "cer_by_tag": {k: _stats(v) for k, v in sorted(by_tag.items())},
        "cer_by_face": {k: _stats(v) for k, v in sorted(by_face.items())},
        "blank": blank, "rotated_pages": rotations, "per_page_cer": per_page,
        "load": [min(r["load"][0] for r in runs), max(r["load"][1] for r in runs)],  # type: ignore[index]
        "errors": [r["error"] for r in runs if r.get("error")][:3],
    }
    if runs and "timings" in runs[0]:
        done = [r for r in runs if r["rc"] == 0]
        steps = sorted({k for r in done for k in r["timings"]})  # type: ignore[union-attr]
        out["steps_mean_s"] = {k: round(statistics.mean(float(r["timings"].get(k, 0.0)) for r in done), 3)  # type: ignore[union-attr]
                               for k in steps}
        out["startup_exit_mean_s"] = round(statistics.mean(float(r["wall_s"]) - float(r["seconds"] or 0)
                                                           for r in done), 3)
        out["lost_pages"] = sum(int(r["pages"]) - int(r.get("pages_out", 0)) for r in done)
        out["warnings"] = sorted({w for r in done for w in r.get("warnings", [])})[:12]  # type: ignore[union-attr]
    return out


def _whole(run: dict[str, object], docs: int, pages: int) -> dict[str, object]:
    wall = float(run["wall_s"])
    return {**run, "docs_per_min": round(docs / wall * 60, 2), "pages_per_min": round(pages / wall * 60, 2),
            "cpu_s_per_page": round(float(run["cpu_s"]) / pages, 3), "expected_docs": docs, "expected_pages": pages}


def summarise(docs: list[CounterDoc], runs: dict[str, list[dict[str, object]]], batch: dict[str, object],
              daemon: dict[str, object]) -> dict[str, object]:
    pages = sum(len(d.pages) for d in docs)
    tools = {name: _tool(docs, r) for name, r in runs.items()}
    tools["sohoa batch"] = _whole(batch, len(docs), pages)
    tools["sohoa watch"] = _whole(daemon, len(docs), pages)
    cli, sub, om, raw = (tools[k] for k in ("sohoa process", "sohoa process (subprocess engine)", "ocrmypdf",
                                             "raw tesseract"))
    ratio = {
        "cli_vs_ocrmypdf_docs_per_min": round(cli["docs_per_min"] / om["docs_per_min"], 2),  # type: ignore[operator]
        "cpu_per_page_vs_raw": round(cli["cpu_s_per_page"] / raw["cpu_s_per_page"], 2),  # type: ignore[operator]
        "daemon_vs_batch": round(tools["sohoa watch"]["docs_per_min"] / tools["sohoa batch"]["docs_per_min"], 2),  # type: ignore[operator]
        "cer_subprocess_vs_ocrmypdf": round(sub["cer"]["mean"] / om["cer"]["mean"], 2),  # type: ignore[index]
        "cer_auto_vs_ocrmypdf": round(cli["cer"]["mean"] / om["cer"]["mean"], 2),  # type: ignore[index]
    }
    met = {"cli ≥ 4× OCRmyPDF": ratio["cli_vs_ocrmypdf_docs_per_min"] >= 4,
           "CPU/page ≤ 2× raw": ratio["cpu_per_page_vs_raw"] <= 2,
           "daemon ≥ 0.9× batch": ratio["daemon_vs_batch"] >= 0.9,
           "CER ≤ ½ OCRmyPDF (equal versions)": ratio["cer_subprocess_vs_ocrmypdf"] <= 0.5}
    families = defaultdict(int)
    for d in docs:
        for p in d.pages:
            families[p.family] += 1
    return {"docs": len(docs), "pages": pages, "families": dict(sorted(families.items())),
            "formats": {f: sum(1 for d in docs if d.fmt == f) for f in ("jpeg", "png", "tiff", "pdf")},
            "tools": tools, "ratios": ratio, "targets_met": met}


def _pct(stats: dict[str, object], key: str = "mean") -> str:
    return f"{float(stats[key]):.2%}" if stats.get("n") else "-"


def render(data: dict[str, dict]) -> str:
    lines = ["# Counter traffic benchmark (issue 14): held-out small documents, one call or one job each", "",
             "Written by `python -m bench.bench_counter --label LABEL` (the corpus: `bench/counter_corpus.py`, "
             "`bench/counter_pages.py`; the reading: `bench/results/counter-notes.md`). Targets: " + TARGETS + ".", ""]
    for label, e in data.items():
        t = e["tools"]
        lines += [f"## {label} — {e['docs']} documents, {e['pages']} pages, {e['workers']} workers, "
                  f"{e['cores']} cores, load {e['load_start']} → {e['load_end']}, {e['minutes']} min, {e['date']}", "",
                  f"Pages by family: {e['families']}; documents by format: {e['formats']}; "
                  f"seed {e['seed']}, faces {e.get('faces', 'seen')}.", "",
                  "| tool | engine | docs/min | pages/min | CPU s/page | CPU s/doc | fixed s/doc (wall fit) | "
                  "fixed CPU s/doc (fit) | failed docs | load during |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---|"]
        for name, s in t.items():
            wf, cf = s.get("wall_fit", {}), s.get("cpu_fit", {})
            lines.append(f"| {name} | {e['versions'].get(name, '')} | {s['docs_per_min']} | {s['pages_per_min']} | "
                         f"{s['cpu_s_per_page']} | {s.get('cpu_s_per_doc', '-')} | {wf.get('fixed_s', '-')} | "
                         f"{cf.get('fixed_s', '-')} | {s.get('failed_docs', s.get('failed'))} | {s['load']} |")
        r, met = e["ratios"], e["targets_met"]
        lines += ["", "Targets: " + "; ".join(f"{k}: **{'met' if v else 'missed'}**" for k, v in met.items()),
                  f"(CLI/OCRmyPDF {r['cli_vs_ocrmypdf_docs_per_min']}×, CPU/page vs raw {r['cpu_per_page_vs_raw']}×, "
                  f"daemon/batch {r['daemon_vs_batch']}, "
                  f"CER subprocess engine/OCRmyPDF {r['cer_subprocess_vs_ocrmypdf']}, "
                  f"CER auto engine/OCRmyPDF {r['cer_auto_vs_ocrmypdf']}).", ""]
        per_doc = {k: v for k, v in t.items() if "cer" in v}
        lines += ["Accuracy on the non-blank pages (per-page CER/WER of each tool's own text: sohoa's and OCRmyPDF's "
                  "`--sidecar`, Tesseract's .txt; mean and median):", "",
                  "| tool | n | CER mean | CER median | WER mean | WER median | "
                  "CER of the PDF text layer (pdftotext) mean / median |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for name, s in per_doc.items():
            lines.append(f"| {name} | {s['cer']['n']} | {_pct(s['cer'])} | {_pct(s['cer'], 'median')} | "
                         f"{_pct(s['wer'])} | {_pct(s['wer'], 'median')} | {_pct(s['cer_text_layer'])} / "
                         f"{_pct(s['cer_text_layer'], 'median')} |")
        for title, key in (("page family", "cer_by_family"), ("damage", "cer_by_tag"), ("face", "cer_by_face")):
            keys = sorted({k for s in per_doc.values() for k in s.get(key, {})})
            if not keys:
                continue
            first = next(iter(per_doc.values()))[key]
            lines += ["", f"CER by {title} (mean / median, n):", "",
                      "| tool | " + " | ".join(f"{k} (n={first.get(k, {}).get('n', 0)})" for k in keys) + " |",
                      "|---|" + "---:|" * len(keys)]
            for name, s in per_doc.items():
                cells = [f"{_pct(s[key][k])} / {_pct(s[key][k], 'median')}" if k in s[key] else "-" for k in keys]
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines += ["", "Blank backs: pages that reached OCR, and the text each tool put on them:", "",
                  "| tool | blank pages | reached OCR | pages with text | chars | samples |",
                  "|---|---:|---:|---:|---:|---|"]
        for name, s in per_doc.items():
            b = s["blank"]
            samples = "; ".join(f"`{x}`" for x in b["samples"][:3]).replace("|", "¦")
            lines.append(f"| {name} | {b['pages']} | {b['reached_ocr']} | {b['pages_with_text']} | {b['chars']} | "
                         f"{samples} |")
        cli = t["sohoa process"]
        lines += ["", f"`sohoa process` per document: start-up + exit (wall − job seconds) "
                  f"{cli.get('startup_exit_mean_s')} s; job steps (mean s): {cli.get('steps_mean_s')}; lost pages: "
                  f"{cli.get('lost_pages')}; rotated pages: {cli.get('rotated_pages')}.",
                  f"Batch: {t['sohoa batch'].get('documents')} documents / {t['sohoa batch'].get('pages')} pages "
                  "filed, "
                  f"{t['sohoa batch'].get('failed')} failed; daemon: {t['sohoa watch'].get('documents')} / "
                  f"{t['sohoa watch'].get('pages')}, {t['sohoa watch'].get('failed')} failed "
                  f"(expected {e['docs']} / {e['pages']}).", ""]
    notes = Path(__file__).resolve().parent / "results" / "counter-notes.md"  # the reading, written by hand
    if notes.exists():
        lines += [notes.read_text(encoding="utf-8").rstrip(), ""]
    return "\n".join(lines)
