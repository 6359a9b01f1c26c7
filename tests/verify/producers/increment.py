"""Append a hand-written incremental update (objects + classic xref section + trailer) to a PDF.

Why by hand and not with a PDF library: the crafted cases need updates no library writes on purpose —
an object redefined under its old number, a page tree with a page missing, a hybrid-reference trailer
whose ``/XRefStm`` shows some readers objects the classic section hides. Writing the bytes directly
keeps each case exactly what its name says.
"""

from __future__ import annotations

import io
import re
import zlib

import pikepdf

Ref = tuple[int, int]


def last_startxref(data: bytes) -> int:
    return int(re.findall(rb"startxref\s+(\d+)", data)[-1])


def trailer_info(data: bytes) -> tuple[int, Ref, bytes]:
    """(/Size, /Root ref, the ``/ID`` and ``/Info`` entries as PDF syntax) of the file's last trailer."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        extra = b""
        if "/ID" in pdf.trailer:
            extra += b" /ID " + pdf.trailer.ID.unparse()
        if "/Info" in pdf.trailer:
            extra += b" /Info " + pdf.trailer.Info.unparse()
        return int(pdf.trailer.Size), pdf.Root.objgen, extra


def stream(body: bytes, extra: bytes = b"") -> bytes:
    """An uncompressed stream object's text."""
    return b"<< /Length " + str(len(body)).encode() + extra + b" >>\nstream\n" + body + b"\nendstream"


def append_increment(data: bytes, objects: dict[Ref, bytes], *, size: int | None = None,
                     hidden: dict[Ref, bytes] | None = None) -> bytes:
    """``data`` + one update defining ``objects`` (ref → object text, without ``obj``/``endobj``).

    ``hidden`` makes the update a hybrid-reference one: those objects are written too, but listed only
    in an xref stream that the classic trailer names in ``/XRefStm`` (PDF 1.5, 7.5.8.4); a reader that
    honours ``/XRefStm`` sees them, one that reads only the classic section does not.
    """
    old_size, root, trailer_extra = trailer_info(data)
    out = bytearray(data if data.endswith(b"\n") else data + b"\n")
    offsets: dict[Ref, int] = {}
    for ref, body in sorted(objects.items()):
        offsets[ref] = len(out)
        out += f"{ref[0]} {ref[1]} obj\n".encode() + body + b"\nendobj\n"
    new_size = max([size or old_size, old_size, *(r[0] + 1 for r in [*objects, *(hidden or {})])])
    xrefstm = b""
    if hidden:
        hidden_offsets: dict[Ref, int] = {}
        for ref, body in sorted(hidden.items()):
            hidden_offsets[ref] = len(out)
            out += f"{ref[0]} {ref[1]} obj\n".encode() + body + b"\nendobj\n"
        stm_num = new_size
        new_size += 1
        stm_at = len(out)
        rows = b"".join(b"\x01" + off.to_bytes(4, "big") + ref[1].to_bytes(1, "big")
                        for ref, off in sorted(hidden_offsets.items()))
        index = " ".join(f"{ref[0]} 1" for ref in sorted(hidden_offsets)).encode()
        packed = zlib.compress(rows)
        out += (f"{stm_num} 0 obj\n".encode() + b"<< /Type /XRef /W [1 4 1] /Index [" + index + b"] /Size "
                + str(new_size).encode() + b" /Filter /FlateDecode /Length " + str(len(packed)).encode()
                + b" >>\nstream\n" + packed + b"\nendstream\nendobj\n")
        xrefstm = f" /XRefStm {stm_at}".encode()
    xref_at = len(out)
    out += b"xref\n"
    if not offsets:
        out += b"0 1\n0000000000 65535 f \n"
    for ref in sorted(offsets):
        out += f"{ref[0]} 1\n{offsets[ref]:010d} {ref[1]:05d} n \n".encode()
    out += (f"trailer\n<< /Size {new_size} /Root {root[0]} {root[1]} R /Prev {last_startxref(data)}".encode()
            + trailer_extra + xrefstm + f" >>\nstartxref\n{xref_at}\n%%EOF\n".encode())
    return bytes(out)
