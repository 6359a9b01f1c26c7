"""An incremental PDF writer that keeps the Info dictionary and the XMP metadata equivalent (PDF/A 6.6.3).

Why: on every save pyHanko 0.38 appends "; pyHanko x.y" to Info ``/Producer`` but writes only
"pyHanko x.y" into XMP ``pdf:Producer``, and it computes Info ``/ModDate`` and XMP ``xmp:ModifyDate``
from two separate clock readings. PDF/A-2 requires the two to say the same thing, so a signed PDF/A
would fail conformance (our check in ``stages.conformance`` caught exactly this). After pyHanko has
updated both, this writer copies XMP's producer and modification date into the Info dictionary (the
XMP stream itself is left exactly as pyHanko updated it, so its diff analysis stays clean). It hooks
pyHanko's ``_update_meta`` (a private method): the PDF/A tests after one and two signatures guard
against a pyHanko upgrade changing it.
"""

from __future__ import annotations

import datetime as dt

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.metadata import model
from pyhanko.pdf_utils.metadata.xmp_xml import MetadataStream


class PdfaIncrementalWriter(IncrementalPdfFileWriter):
    def _update_meta(self) -> None:
        super()._update_meta()
        if self._info is None or "/Metadata" not in self.root:
            return
        meta_obj = self.root["/Metadata"]
        if not isinstance(meta_obj, MetadataStream):
            return
        fields = {key: value for root in meta_obj.xmp for key, value in root}
        info = self._info.get_object()
        producer = fields.get(model.PDF_PRODUCER)
        if producer is not None and isinstance(producer.value, str):
            info["/Producer"] = generic.TextStringObject(producer.value)
        modified = fields.get(model.XMP_MODDATE)
        moment = _parse_iso(modified.value) if modified is not None else None
        if moment is not None:  # unparseable: Info stays as pyHanko wrote it; the PDF/A check will say so
            info["/ModDate"] = generic.pdf_date(moment)
        self.mark_update(self._info)


def _parse_iso(value: object) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        return None
