"""Decoding the analysed parts of a track: every format gives its whole length, and each part in full."""

from __future__ import annotations

import numpy as np
import pytest

from desktop.core.audio import probe, read_segments
from tests.audio_files import ENCODINGS, ffmpeg_available, make_track

pytestmark = pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is needed to make the test files")


@pytest.mark.parametrize("ext", list(ENCODINGS))
def test_every_format_decodes_its_whole_length_and_parts_from_anywhere(tmp_path, ext):
    # ffmpeg could neither seek into a Musepack file (a part 1 s in came back 0.7 s long) nor tell its length
    # (3.3 s for 4 s): the windows of the track's later parts were short or never analysed.
    wav = make_track(tmp_path, "source", "tones", "wav", 4.0, seed=5)
    track = make_track(tmp_path, "track", "tones", ext, 4.0, seed=5)
    assert probe(track).duration == pytest.approx(4.0, abs=0.1)
    rate, parts = 16000, [(0.0, 1.0), (1.0, 2.0), (2.5, 1.0)]
    for (_, seconds), got, want in zip(parts, read_segments(track, parts, rate), read_segments(wav, parts, rate), strict=True):
        # The whole part: codecs pad or trim a little (ffmpeg's WMA decoder starts 0.09 s short).
        assert len(got) == pytest.approx(seconds * rate, rel=0.1)
        rms, expected = float(np.sqrt(np.mean(got**2))), float(np.sqrt(np.mean(want**2)))
        assert rms == pytest.approx(expected, rel=0.2)
