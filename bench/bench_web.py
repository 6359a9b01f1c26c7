"""Benchmark ``sohoa serve``: verify requests/s and search latency (p50/p95) over loopback HTTP.

    .venv/bin/python -m bench.bench_web [--dossiers 400] [--verify-requests 60] [--search-requests 400]
                                        [--concurrency 4] [--out bench/results/web.md]

Set-up: a test PKI (tests/pki) signs one B-LT PDF; a fresh SQLite records database gets N dossiers, each
with one document carrying two pages of Vietnamese OCR text, and the signed PDF is attached to one of
them (so verify also does the records match). The server runs in its own process (uvicorn, one worker,
as ``sohoa serve`` does), so the load generator does not share its GIL. The load is bounded: a fixed
number of requests from a fixed number of client threads, each request with a Bearer token.
Verify is offline (embedded validation data only), so the figure is the server's own cost.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

QUERIES = ["giấy chứng nhận quyền sử dụng đất", "giay chung nhan quyen su dung dat", "Nguyễn Văn", "nguyen van",
           "hộ kinh doanh", "ho kinh doanh", "khai sinh", "xác nhận tình trạng hôn nhân", "xac nhan hon nhan",
           "Hòa Phước"]
TEXTS = ["Giấy chứng nhận quyền sử dụng đất cấp cho ông {n} tại xã Hòa Phước, huyện Hòa Vang",
         "Đơn đăng ký hộ kinh doanh của bà {n}, địa chỉ thôn {i}",
         "Tờ khai đăng ký khai sinh cho cháu {n}, sinh ngày {i} tháng 3",
         "Giấy xác nhận tình trạng hôn nhân của {n}"]
NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Hoàng Văn Đức", "Võ Thị Hạnh"]


def _setup(folder: Path, dossiers: int) -> tuple[Path, Path, dict]:
    """Sign one PDF with the test PKI, seed the records; returns (signed pdf, data dir, signing dict)."""
    from bench.bench_verify import _source
    from sohoa.config.records import RecordsSettings
    from sohoa.config.signing import SigningSettings
    from sohoa.records import AttachMeta, Records
    from sohoa.signing import sign_pdf
    from tests.pki import serve_pki

    server = serve_pki(folder / "pki")
    pki = server.pki
    os.environ["SOHOA_BENCH_P12"] = pki.signer("organization").p12_password
    signing = {"keys": {"organization": {"kind": "pkcs12", "path": str(pki.signer("organization").p12),
                                         "password_env": "SOHOA_BENCH_P12"}},
               "profiles": {"organization": {"appearance": {"kind": "invisible"}}},
               "tsa": {"url": pki.tsa_url}, "trust": {"roots": [str(pki.root.cert_pem)]}}
    signed = folder / "signed.pdf"
    sign_pdf(_source(folder, 2), signed, profile="organization", settings=SigningSettings.model_validate(signing),
             level="B-LT")
    server.stop()
    data = folder / "data"
    fake = folder / "fake"
    fake.mkdir()
    with Records.open(RecordsSettings(), data) as records:
        for i in range(dossiers):
            code = f"000.00.31.H50-2406{(i // 9000) + 10:02d}-{i % 9000 + 1:04d}"
            name = NAMES[i % len(NAMES)]
            texts = [TEXTS[i % len(TEXTS)].format(n=name, i=i), TEXTS[(i + 1) % len(TEXTS)].format(n=name, i=i)]
            pdf = fake / f"{i}.pdf"
            pdf.write_bytes(f"%PDF-1.7\n% {i}\n%%EOF\n".encode())
            records.attach(pdf if i else signed, dossier_code=code, kind="component",
                           meta=AttachMeta(title=f"Văn bản {i}", page_texts=texts))
    return signed, data, signing


def serve(data: str, fd: int, signing_json: str) -> None:
    """Child process: the app as ``sohoa serve`` builds it, verify offline, on the listening socket ``fd``."""
    import logging

    import uvicorn

    from sohoa.config import Settings
    from sohoa.config.signing import SigningSettings
    from sohoa.config.web import WebSettings
    from sohoa.web import create_app

    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    settings = Settings(data_dir=Path(data), signing=SigningSettings.model_validate(json.loads(signing_json)))
    app = create_app(settings, WebSettings(verify_offline=True, max_upload_mb=50))
    uvicorn.run(app, fd=fd, log_level="warning", access_log=False)


def _load(url: str, n: int, concurrency: int,
          make: Callable[[httpx.Client, int], httpx.Response]) -> tuple[float, list[float], dict[int, int]]:
    """n requests from ``concurrency`` threads; returns (wall seconds, latencies, status counts)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    counter = iter(range(n))

    def worker() -> None:
        with httpx.Client(base_url=url, timeout=120) as client:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                start = time.perf_counter()
                r = make(client, i)
                took = time.perf_counter() - start
                with lock:
                    latencies.append(took)
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start, latencies, statuses


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dossiers", type=int, default=400)
    parser.add_argument("--verify-requests", type=int, default=60)
    parser.add_argument("--search-requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--out", type=Path, default=Path("bench/results/web.md"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sohoa-bench-web-") as tmp:
        folder = Path(tmp)
        t0 = time.perf_counter()
        signed, data, signing = _setup(folder, args.dossiers)
        setup_s = time.perf_counter() - t0
        from sohoa.config.records import RecordsSettings
        from sohoa.records import Records
        from sohoa.web.tokens import Tokens

        with Records.open(RecordsSettings(), data) as records:
            _info, token = Tokens(records).create("clerk", "bench")
        listener = socket.create_server(("127.0.0.1", 0))  # bound here on port 0, inherited by the server
        port = listener.getsockname()[1]
        child = subprocess.Popen([sys.executable, "-c", "import sys; from bench.bench_web import serve; "
                                  "serve(sys.argv[1], int(sys.argv[2]), sys.argv[3])", str(data),
                                  str(listener.fileno()), json.dumps(signing)],
                                 env=os.environ | {"OMP_THREAD_LIMIT": "1"}, pass_fds=[listener.fileno()])
        listener.close()
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(200):
                try:
                    if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            headers = {"Authorization": f"Bearer {token}"}
            pdf = signed.read_bytes()

            def verify(client: httpx.Client, _i: int) -> httpx.Response:
                return client.post("/api/v1/verify", headers=headers,
                                   files={"file": ("signed.pdf", pdf, "application/pdf")})

            def search(client: httpx.Client, i: int) -> httpx.Response:
                return client.get("/api/v1/search", headers=headers, params={"q": QUERIES[i % len(QUERIES)]})

            verify(httpx.Client(base_url=url, timeout=120), 0)  # warm-up (trust store, imports)
            rows = []
            for conc in sorted({1, args.concurrency}):
                wall, lat, st = _load(url, args.verify_requests, conc, verify)
                rows.append((f"verify (B-LT, 2 pages, {len(pdf) // 1024} kB)", conc, len(lat), wall, lat, st))
            for conc in sorted({1, args.concurrency}):
                wall, lat, st = _load(url, args.search_requests, conc, search)
                rows.append((f"search ({args.dossiers} dossiers)", conc, len(lat), wall, lat, st))
        finally:
            child.terminate()
            child.wait(10)
    lines = ["# Web service benchmark (`bench/bench_web.py`)", "",
             f"Loopback HTTP, server in its own process (uvicorn, 1 worker), SQLite records with "
             f"{args.dossiers} dossiers; set-up {setup_s:.0f} s. Machine: {os.cpu_count()} cores (shared).", "",
             "| requests | client threads | n | req/s | p50 ms | p95 ms | max ms | statuses |",
             "|---|---|---|---|---|---|---|---|"]
    for name, conc, n, wall, lat, st in rows:
        lines.append(f"| {name} | {conc} | {n} | {n / wall:.1f} | {statistics.median(lat) * 1000:.0f} | "
                     f"{_pct(lat, 0.95) * 1000:.0f} | {max(lat) * 1000:.0f} | {st} |")
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
