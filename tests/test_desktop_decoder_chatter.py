"""libmpg123's lines stay off stderr while an MP3 is decoded; everything else on stderr passes as it comes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from desktop.core.audio import probe, read_segments
from desktop.core.decoder_chatter import decoder_chatter_filtered
from tests.audio_files import ffmpeg_available, make_track

CHATTER_LINE = b"[src/libmpg123/layer3.c:INT123_do_layer3():1774] error: part2_3_length (3360) too large\n"


class _Err:
    """What reached the captured stderr so far (capfd's readouterr empties it on every read)."""

    def __init__(self, capfd):
        self.capfd, self.text = capfd, ""

    def wait_for(self, expected: str, seconds: float = 5.0) -> str:
        deadline = time.monotonic() + seconds
        while expected not in self.text and time.monotonic() < deadline:
            self.text += self.capfd.readouterr().err
            time.sleep(0.02)
        return self.text


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is needed to make an MP3")
def test_seeking_in_an_mp3_prints_nothing(tmp_path, capfd):
    # A 30 s MP3 read at five windows: without the filter, libmpg123 prints a line on most of these seeks.
    mp3 = make_track(tmp_path, "beats", "beats", "mp3", seconds=30.0)
    capfd.readouterr()
    windows = read_segments(mp3, probe(mp3), [(s, 3.0) for s in (3.0, 7.5, 12.0, 18.0, 24.0)], 16000)
    assert [len(w) for w in windows] == [48000] * 5
    assert "libmpg123" not in capfd.readouterr().err
    # A cut-short MP3: its header's stream size is wrong ("Warning: Xing stream size off by more than 1%").
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(mp3.read_bytes()[:3000])
    probe(cut)
    assert capfd.readouterr().err == ""


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is needed to make an MP3")
def test_seeking_in_a_wav_that_holds_mp3_prints_nothing(tmp_path, capfd):
    # A WAV file may hold MP3 (format tag 0x55): libsndfile decodes it through the same libmpg123.
    source = make_track(tmp_path, "beats", "beats", "wav", seconds=30.0)
    held = tmp_path / "mp3 inside.wav"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", str(source), "-c:a", "libmp3lame", str(held)], check=True)
    capfd.readouterr()
    windows = read_segments(held, probe(held), [(s, 3.0) for s in (3.0, 7.5, 12.0, 18.0, 24.0)], 16000)
    assert [len(w) for w in windows] == [48000] * 5
    assert "libmpg123" not in capfd.readouterr().err


def test_other_output_passes_at_once_and_chatter_is_dropped(capfd):
    err = _Err(capfd)
    with decoder_chatter_filtered():
        os.write(2, b"\r[=====     ] 5/10")  # a progress bar: no newline, must not wait for one
        assert "5/10" in err.wait_for("5/10")
        os.write(2, b"]\n")
        os.write(2, CHATTER_LINE[:9])  # a chatter line in two writes is still recognised
        os.write(2, CHATTER_LINE[9:])
        os.write(2, b"a real warning\n")
    assert err.wait_for("a real warning") == "\r[=====     ] 5/10]\na real warning\n"


def test_a_partial_line_left_at_the_end_is_still_passed_on(capfd):
    err = _Err(capfd)
    with decoder_chatter_filtered():
        os.write(2, b"[ok")  # could still become chatter: held back until the decode ends
    assert err.wait_for("[ok", seconds=0.5) == "[ok"


def test_concurrent_decodes_share_one_redirection_and_restore_stderr(capfd):
    before = os.fstat(2)
    both_inside = threading.Barrier(2)

    def decode(name):
        with decoder_chatter_filtered():
            both_inside.wait()
            os.write(2, CHATTER_LINE + f"{name}\n".encode())
            both_inside.wait()

    threads = [threading.Thread(target=decode, args=(n,)) for n in ("one", "two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)
    err = capfd.readouterr().err  # the last decode out has waited until everything went on
    assert sorted(err.splitlines()) == ["one", "two"]


@pytest.mark.skipif(not ffmpeg_available(), reason="ffmpeg is needed to make an MP3")
def test_decoding_without_any_stderr(tmp_path):
    # Launched from a desktop, the app may have no fd 2 at all: decoding still works.
    mp3 = make_track(tmp_path, "tones", "tones", "mp3", seconds=8.0)
    code = ("import os; os.close(2)\n"
            "from desktop.core.audio import probe, read_segments\n"
            f"print(len(read_segments({str(mp3)!r}, probe({str(mp3)!r}), [(4.0, 3.0)], 16000)[0]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(__file__)))
    assert (proc.returncode, proc.stdout.strip()) == (0, "48000")
