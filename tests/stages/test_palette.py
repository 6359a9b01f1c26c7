"""``palette_of`` gives what one ``np.unique`` over the page gives, also for a colour the sample misses."""

from __future__ import annotations

import numpy as np

from sohoa.stages.content_kind import palette_of


def _reference(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    flat = pixels.reshape(-1, 1) if pixels.ndim == 2 else pixels.reshape(-1, 3)
    values, inverse = np.unique(flat, axis=0, return_inverse=True)
    if len(values) > 256:
        return None
    return inverse.reshape(pixels.shape[:2]).astype(np.uint8), values.astype(np.uint8)


def test_palette_matches_a_full_count_with_rare_colours_and_refuses_many() -> None:
    rng = np.random.default_rng(7)
    colours = rng.integers(0, 255, (40, 3), dtype=np.uint8)
    rgb = colours[rng.integers(0, 3, (600, 700))]  # three common colours ...
    rgb[123, 457] = (1, 2, 3)  # ... and single pixels the 1-in-6 sample misses (flat index not a multiple of 6)
    rgb[599, 699] = colours[39]
    grey = rng.integers(0, 30, (600, 700), dtype=np.uint8)
    for image in (rgb, grey):
        got, want = palette_of(image), _reference(image)
        assert got is not None and want is not None
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1])
    assert palette_of(rng.integers(0, 255, (300, 300, 3), dtype=np.uint8)) is None
