"""``kill -9`` of ``sohoa process`` while its lanes read pages: no OCR helper outlives it.

Why: a short document's pages are read in threads of the command (``pipeline.lanes``), each with an
OCR helper process that the kernel kills when the lane's thread goes (``PR_SET_PDEATHSIG``). A
SIGKILLed command takes its threads with it; this checks the helpers really follow, for real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

from tests.watch.outcomes import session_processes


def _page(path: Path, n: int) -> None:
    image = Image.new("L", (2480, 3508), 255)  # A4 at 300 dpi: OCR takes long enough to be caught
    draw = ImageDraw.Draw(image)
    for row in range(60):
        draw.text((150, 150 + row * 55), f"Trang {n} dòng {row}: hồ sơ thủ tục hành chính " * 3, fill=0)
    image.save(path, dpi=(300, 300))


def test_a_killed_process_leaves_no_ocr_helper(tmp_path: Path) -> None:
    pages = [tmp_path / f"p{n}.png" for n in (1, 2)]
    for n, path in enumerate(pages, start=1):
        _page(path, n)
    config = tmp_path / "sohoa.toml"
    config.write_text(f'data_dir = "{tmp_path / "var"}"\n[ocr]\nlanguages = "vie"\nworkers = 2\n', encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "sohoa.cli", "process", *map(str, pages), "-o",
                             str(tmp_path / "out.pdf"), "--config", str(config), "-q"],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            helpers = [p for p in session_processes(proc.pid) if "tesseract_warm" in p]
            if len(helpers) == 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None and len(helpers) == 2, f"two lane helpers never ran: {helpers}"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 10
        while (left := session_processes(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left, f"left running after kill -9: {left}"
        assert not (tmp_path / "out.pdf").exists()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
