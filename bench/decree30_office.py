"""Decree-30 documents laid out by another producer: HTML in the shape of the usual Word template (a two-
column header table, a two-column signature table), set by LibreOffice Writer headless, printed to PDF
and rasterised by poppler's ``pdftoppm`` — none of it our Pillow renderer, and never tuned on.

Why: the extraction rules were written against ``tests/stages/decree30_pages`` (Pillow, fixed offsets);
a clerk's documents come out of Word and LibreOffice, whose tables, line breaks and font metrics put the
fields elsewhere. Fonts: FreeSerif and Noto Serif (the tuning page is Liberation Serif).
"""

from __future__ import annotations

import html
import io
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


@dataclass
class OfficeDoc:
    name: str
    font: str
    dpi: int
    agency_lines: list[str]
    number: str
    place_date: str
    title: str | None
    subject: str
    body: list[str]
    recipients: list[str]
    signature: list[str]  # authority/title lines, then the name
    truth: dict[str, str] = field(default_factory=dict)


DOCS = [
    OfficeDoc("lo-quyet-dinh-so-gtvt", "FreeSerif", 300, ["UBND TỈNH QUẢNG TRỊ", "SỞ GIAO THÔNG VẬN TẢI"],
              "Số: 412/QĐ-SGTVT", "Quảng Trị, ngày 18 tháng 4 năm 2025", "QUYẾT ĐỊNH",
              "Về việc cấp giấy phép lưu hành xe quá tải trọng",
              ["Căn cứ Luật Giao thông đường bộ ngày 13 tháng 11 năm 2008;",
               "Xét đơn đề nghị của Công ty TNHH Vận tải Hòa Bình,"],
              ["Như Điều 2;", "Lưu: VT, QLVT."], ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Hoàng Minh Tuấn"],
              {"parent_agency": "UBND TỈNH QUẢNG TRỊ", "issuing_agency": "SỞ GIAO THÔNG VẬN TẢI",
               "doc_number": "412/QĐ-SGTVT", "doc_type": "QUYẾT ĐỊNH", "issue_place": "Quảng Trị",
               "issue_date": "2025-04-18", "subject": "Về việc cấp giấy phép lưu hành xe quá tải trọng",
               "signer_authority": "KT. GIÁM ĐỐC", "signer_title": "PHÓ GIÁM ĐỐC", "signer_name": "Hoàng Minh Tuấn",
               "recipients": "Như Điều 2; Lưu: VT, QLVT"}),
    OfficeDoc("lo-thong-bao-ubnd-xa", "Noto Serif", 200, ["UBND HUYỆN HẢI LĂNG", "UBND XÃ HẢI SƠN"],
              "Số: 35/TB-UBND", "Hải Sơn, ngày 09 tháng 12 năm 2024", "THÔNG BÁO",
              "Về việc tiếp công dân định kỳ tháng 12 năm 2024",
              ["Ủy ban nhân dân xã thông báo lịch tiếp công dân như sau:",
               "Thời gian: từ 7 giờ 30 đến 11 giờ 00 ngày 20 tháng 12 năm 2024."],
              ["Thường trực Đảng ủy;", "Lưu: VT."], ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH", "Trương Thị Mỹ Hạnh"],
              {"parent_agency": "UBND HUYỆN HẢI LĂNG", "issuing_agency": "UBND XÃ HẢI SƠN",
               "doc_number": "35/TB-UBND", "doc_type": "THÔNG BÁO", "issue_place": "Hải Sơn",
               "issue_date": "2024-12-09", "subject": "Về việc tiếp công dân định kỳ tháng 12 năm 2024",
               "signer_authority": "TM. ỦY BAN NHÂN DÂN", "signer_title": "CHỦ TỊCH",
               "signer_name": "Trương Thị Mỹ Hạnh", "recipients": "Thường trực Đảng ủy; Lưu: VT"}),
]


def _html(doc: OfficeDoc) -> str:
    e = html.escape
    agencies = "<br>".join(f"<b>{e(a)}</b>" if i else e(a) for i, a in enumerate(doc.agency_lines))
    titles = "<br>".join(f"<b>{e(t)}</b>" for t in doc.signature[:-1])
    body = "".join(f"<p>{e(p)}</p>" for p in doc.body)
    recipients = "<br>".join(f"- {e(r)}" for r in doc.recipients)
    heading = f'<p align="center"><b>{e(doc.title)}</b><br><b>{e(doc.subject)}</b></p>' if doc.title else ""
    return (f'<html><head><meta charset="utf-8"><style>body{{font-family:"{doc.font}";font-size:13pt}}'
            "td{vertical-align:top}</style></head><body>"
            '<table width="100%"><tr><td width="40%" align="center">'
            f'{agencies}<br>{e(doc.number)}</td><td width="60%" align="center"><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA '
            f"VIỆT NAM</b><br><b>Độc lập - Tự do - Hạnh phúc</b><br><i>{e(doc.place_date)}</i></td></tr></table>"
            f"{heading}{body}"
            '<table width="100%"><tr><td width="50%"><b>Nơi nhận:</b><br>'
            f'{recipients}</td><td width="50%" align="center">{titles}<br><br><br><br>'
            f"<b>{e(doc.signature[-1])}</b></td></tr></table></body></html>")


def render(work: Path) -> list[tuple[OfficeDoc, np.ndarray]]:
    """Each document as LibreOffice sets it: page 1 at the document's dpi, as an RGB array."""
    soffice = shutil.which("soffice")
    if soffice is None:
        raise RuntimeError("LibreOffice is missing: apt-get install libreoffice-writer-nogui")
    sources = []
    for doc in DOCS:
        path = work / f"{doc.name}.html"
        path.write_text(_html(doc), encoding="utf-8")
        sources.append(path)
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{work}/lo-profile",
                    "--infilter=HTML (StarWriter)", "--convert-to", "pdf:writer_pdf_Export", "--outdir", str(work),
                    *map(str, sources)], check=True, capture_output=True, timeout=600)
    out = []
    for doc in DOCS:
        png = subprocess.run(["pdftoppm", "-r", str(doc.dpi), "-gray", "-f", "1", "-l", "1", "-png",
                              str(work / f"{doc.name}.pdf")], check=True, capture_output=True).stdout
        grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
        out.append((doc, np.dstack([grey, grey, grey])))
    return out
