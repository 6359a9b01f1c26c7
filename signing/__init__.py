"""Key sources, signing profiles, PAdES signing with pyHanko, verification. Knows nothing about OCR."""
