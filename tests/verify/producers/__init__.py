"""PDFs signed by software other than sohoa, and changed afterwards by yet other tools (issue 11).

Why: ``sohoa verify`` meets files from every signer a citizen or another agency uses; its verdicts are
tuned on files sohoa made itself unless the tests bring the world's producers in. Each module here
drives one producer (pyHanko with non-default options, endesive, pdfsignerpy, poppler's ``pdfsig``,
@signpdf on Node, a hand-made OpenSSL CMS) or one kind of later change (``post``: LTV data, document
timestamps, annotations, form filling, qpdf rewrites; ``attacks``: byte-range overlap, pages, shadow
attacks), all with identities of the session test PKI (``tests.pki``). ``cases`` is the table of
cases with their expected verdicts and their tuning / held-out split; ``tests/verify/test_producers.py``
runs it. Key material goes only into private (0700) temporary folders (``base.Workspace``).
"""
