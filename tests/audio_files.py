"""Real audio files in every supported format, encoded with ffmpeg from synthesized music."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from trainer.synth import synth_track

# extension -> ffmpeg codec arguments; one entry per format the app supports.
ENCODINGS = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", "128k"],
    "flac": ["-c:a", "flac"],
    "ogg": ["-c:a", "libvorbis", "-q:a", "3"],
    "opus": ["-c:a", "libopus", "-b:a", "64k"],
    "opus.ogg": ["-c:a", "libopus", "-b:a", "64k"],  # Opus saved as .ogg, as many encoders do
    "flac.oga": ["-c:a", "flac"],  # FLAC in an Ogg container
    "m4a": ["-c:a", "aac", "-b:a", "128k"],
    "alac.m4a": ["-c:a", "alac"],
    "wav": ["-c:a", "pcm_s16le"],
    "aiff": ["-c:a", "pcm_s16be"],
    "aifc": ["-c:a", "pcm_s16le"],  # AIFF-C with little-endian samples ('sowt'), as Logic and GarageBand export
    "wma": ["-c:a", "wmav2", "-b:a", "128k"],
    "wv": ["-c:a", "wavpack"],
    "mpc": ["-ar", "44100"],  # the WAV mpcenc encodes (it takes 32 to 48 kHz; see encode)
    "ape": ["-c:a", "pcm_s16le"],  # the WAV jmac (Monkey's Audio in Java) encodes; tags added with mutagen (see encode)
    "tta": ["-c:a", "tta"],  # True Audio; ffmpeg writes its tags as APEv2 at the end
    "dsf": [],  # DSD written here (write_dsf: no encoder reachable makes one); tags added with mutagen (see encode)
    "dff": [],  # DSD in DSDIFF, written here too (write_dsdiff)
    "mp2": ["-c:a", "mp2", "-b:a", "128k"],  # MPEG layer II; ffmpeg writes no tag to it: ID3v2 added with mutagen
    "aac": ["-c:a", "aac", "-b:a", "96k", "-write_apetag", "1"],  # raw AAC (ADTS), tags as APEv2 at the end
    "ac3": ["-c:a", "ac3", "-ar", "44100"],  # AC-3 (32, 44.1 or 48 kHz only); ffmpeg writes no tag: APEv2 added here
    "webm": ["-c:a", "libopus", "-b:a", "64k"],  # WebM (Opus), as yt-dlp saves YouTube's audio; tags in Matroska's Tags
    "mka": ["-c:a", "flac"],  # Matroska audio; ffmpeg writes its tags with CRC-32s, and the title as the segment's
    "mkvmerge.mka": ["-c:a", "libopus", "-b:a", "64k"],  # the Opus file mkvmerge muxes: its layout (tags after the cues)
    "spx": ["-c:a", "libspeex", "-ar", "32000"],  # Speex in Ogg (8, 16 or 32 kHz only)
    "caf": ["-c:a", "pcm_s16be"],  # Apple's Core Audio Format; ffmpeg writes its tags in the info chunk
    "alac.caf": ["-c:a", "alac"],  # Apple Lossless in CAF, as afconvert and Logic write it
    "aac.caf": ["-c:a", "aac", "-b:a", "96k"],  # AAC in CAF (afconvert's default): ffmpeg's ADTS repacked (write_caf_aac)
}

DSD_RATE = 2_822_400  # DSD64: 64 x 44.1 kHz, one bit per sample
DSF_BLOCK = 4096  # bytes per channel per block, as every DSF writer uses


def dsd_bits(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """One channel as DSD bits: a first-order sigma-delta modulator (the running sum of the bit density, floored,
    then differenced: each bit carries the quantisation error on), after linear upsampling."""
    n = int(round(len(x) * DSD_RATE / sample_rate))
    up = np.interp(np.arange(n) * (sample_rate / DSD_RATE), np.arange(len(x)), x)  # (n,)
    density = 0.5 + 0.5 * np.clip(up, -1.0, 1.0)  # (n,) share of ones (ffmpeg decodes all ones as full scale)
    level = np.floor(np.cumsum(density) + 0.5)  # (n,)
    return np.diff(level, prepend=0.0).astype(np.uint8)  # (n,) 0 or 1


def write_dsf(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """A DSF file (DSD64, no tag) of float audio, laid out as Sony's specification says."""
    import struct

    audio = audio if audio.ndim == 2 else audio[:, None]  # (samples, channels)
    bits = [dsd_bits(audio[:, c], sample_rate) for c in range(audio.shape[1])]
    packed = [np.packbits(b, bitorder="little") for b in bits]  # DSF: least significant bit first
    blocks = -(-len(packed[0]) // DSF_BLOCK)
    data = bytearray()
    for i in range(blocks):  # channel blocks interleaved; the last padded with DSD silence (0x69)
        for channel in packed:
            block = channel[i * DSF_BLOCK:(i + 1) * DSF_BLOCK].tobytes()
            data += block + b"\x69" * (DSF_BLOCK - len(block))
    channels = len(bits)
    fmt = b"fmt " + struct.pack("<QIIIIIIQI4x", 52, 1, 0, channels, channels, DSD_RATE, 1, len(bits[0]), DSF_BLOCK)
    body = fmt + b"data" + struct.pack("<Q", 12 + len(data)) + bytes(data)
    path.write_bytes(b"DSD " + struct.pack("<QQQ", 28, 28 + len(body), 0) + body)
    return path


def write_dsdiff(path: Path, audio: np.ndarray, sample_rate: int, dst: bool = False) -> Path:
    """A DSDIFF file (DSD64, no tag) of float audio, laid out as Philips' specification (v1.5) says: uncompressed, or
    with `dst` in a DST chunk of stored frames (a DST frame whose first bit is 0 holds its DSD bytes as they are;
    no encoder reachable makes coded ones)."""
    import struct

    def chunk(cid: bytes, body: bytes) -> bytes:  # 64-bit big-endian size, padded to an even length
        return cid + struct.pack(">Q", len(body)) + body + b"\0" * (len(body) & 1)

    audio = audio if audio.ndim == 2 else audio[:, None]  # (samples, channels)
    channels = audio.shape[1]
    bits = np.stack([dsd_bits(audio[:, c], sample_rate) for c in range(channels)])  # (channels, n)
    frame = DST_FRAME_BITS if dst else 8  # DST frames: 1/75 s each
    bits = np.pad(bits, ((0, 0), (0, -bits.shape[1] % frame)))  # (channels, whole frames)
    data = np.packbits(bits, axis=1, bitorder="big")  # (channels, bytes) first bit most significant
    if dst:
        step = DST_FRAME_BITS // 8
        frames = [chunk(b"DSTF", b"\0" + data[:, i:i + step].T.tobytes()) for i in range(0, data.shape[1], step)]
        audio_chunk = chunk(b"DST ", chunk(b"FRTE", struct.pack(">IH", len(frames), 75)) + b"".join(frames))
        compression = b"DST " + bytes([11]) + b"DST Encoded"  # pascal string, even already
    else:
        audio_chunk = chunk(b"DSD ", data.T.tobytes())  # channel bytes interleaved
        compression = b"DSD " + bytes([14]) + b"not compressed" + b"\0"  # pascal string, padded to even
    names = [b"SLFT", b"SRGT"] if channels == 2 else [b"C   "] if channels == 1 else [b"C%03d" % i for i in range(channels)]
    prop = (b"SND " + chunk(b"FS  ", struct.pack(">I", DSD_RATE))
            + chunk(b"CHNL", struct.pack(">H", channels) + b"".join(names)) + chunk(b"CMPR", compression))
    form = b"DSD " + chunk(b"FVER", struct.pack(">I", 0x01050000)) + chunk(b"PROP", prop) + audio_chunk
    path.write_bytes(chunk(b"FRM8", form))
    return path


DST_FRAME_BITS = 588 * 64  # bits per channel in one DST frame of DSD64


AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350]


def _descriptor(tag: int, body: bytes) -> bytes:
    """An MPEG-4 descriptor (tag, one-byte length: every one here is under 128 bytes)."""
    return bytes([tag, len(body)]) + body


def _ber(n: int) -> bytes:
    """A CAF packet table's variable-length number: 7 bits a byte, the high bit set on all but the last."""
    out = [n & 0x7F]
    while n := n >> 7:
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def write_caf_aac(path: Path, adts: Path, frames: int) -> Path:
    """AAC in CAF, as afconvert writes it (ffmpeg cannot mux it): the ADTS stream's frames as packets, their
    AudioSpecificConfig in an esds cookie, and a packet table giving the `frames` of audio after the encoder's
    1024 frames of priming."""
    import struct

    stream, packets, pos = adts.read_bytes(), [], 0
    while pos + 7 <= len(stream):  # ADTS frame: 12-bit sync, header of 7 bytes (9 with a CRC), its length in bits 30-42
        head = stream[pos:pos + 7]
        length = ((head[3] & 0x03) << 11) | (head[4] << 3) | (head[5] >> 5)
        header = 7 if head[1] & 0x01 else 9
        packets.append(stream[pos + header:pos + length])
        pos += length
    first = stream[:7]
    profile, rate_index, channels = (first[2] >> 6) + 1, (first[2] >> 2) & 0x0F, ((first[2] & 1) << 2) | (first[3] >> 6)
    config = struct.pack(">H", (profile << 11) | (rate_index << 7) | (channels << 3))  # AudioSpecificConfig
    decoder = _descriptor(0x04, bytes([0x40, 0x15]) + bytes(3) + struct.pack(">II", 0, 0) + _descriptor(0x05, config))
    cookie = bytes(4) + _descriptor(0x03, struct.pack(">HB", 0, 0) + decoder + _descriptor(0x06, b"\x02"))
    rate = AAC_RATES[rate_index]
    remainder = len(packets) * 1024 - 1024 - frames
    table = struct.pack(">qqii", len(packets), frames, 1024, remainder) + b"".join(_ber(len(p)) for p in packets)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return kind + struct.pack(">q", len(body)) + body

    path.write_bytes(b"caff" + struct.pack(">HH", 1, 0)
                     + chunk(b"desc", struct.pack(">d4s5I", rate, b"aac ", 2, 0, 1024, channels, 0))
                     + chunk(b"kuki", cookie) + chunk(b"pakt", table)
                     + chunk(b"data", bytes(4) + b"".join(packets)))
    return path


def add_id3(path: Path, tags: dict[str, str]) -> None:
    """Tags as ID3v2.4 frames, through mutagen (for files ffmpeg cannot write)."""
    import mutagen
    from mutagen import id3

    frames = {"genre": id3.TCON, "title": id3.TIT2, "artist": id3.TPE1, "album": id3.TALB, "album_artist": id3.TPE2,
              "compilation": id3.TCMP, "track": id3.TRCK, "disc": id3.TPOS, "date": id3.TDRC}
    audio = mutagen.File(path)
    audio.add_tags()
    for key, value in tags.items():
        audio.tags.add(frames[key](encoding=3, text=[value]) if key in frames
                       else id3.TXXX(encoding=3, desc=key, text=[value]))
    audio.save()


def add_ape(path: Path, tags: dict[str, str]) -> None:
    """Tags as an APEv2 tag at the end, through mutagen (keys in title case, as foobar2000 writes them)."""
    from mutagen.apev2 import APEv2

    if not tags:
        return
    ape = APEv2()
    for key, value in tags.items():
        ape[key.title()] = value
    ape.save(path)


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def encode(audio: np.ndarray, sample_rate: int, out: Path, ext: str, tags: dict[str, str] | None = None) -> Path:
    """Encode float audio to `out` with the codec of `ext`; tags become ffmpeg metadata."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if ext in ("dsf", "dff"):  # written here, straight from the samples
        (write_dsf if ext == "dsf" else write_dsdiff)(out, audio, sample_rate)
        if tags:
            add_id3(out, tags)
        return out
    tmp = out.with_suffix(".src.wav")
    sf.write(tmp, audio, sample_rate)
    if ext == "mpc":  # ffmpeg cannot encode Musepack: mpcenc does, from the WAV ffmpeg makes, tags as it writes them
        wav = out.with_suffix(".mpc.wav")
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tmp), *ENCODINGS[ext], str(wav)], check=True)
        tag_args = [a for k, v in (tags or {}).items() for a in ("--tag", f"{k.title()}={v}")]
        subprocess.run(["mpcenc", "--silent", "--overwrite", *tag_args, str(wav), str(out)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wav.unlink()
        tmp.unlink()
        return out
    if ext == "ape":  # ffmpeg cannot encode Monkey's Audio: jmac does, from the WAV ffmpeg makes; it writes no tags
        wav = out.with_suffix(".ape.wav")
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tmp), *ENCODINGS[ext], str(wav)], check=True)
        subprocess.run(["jmac", "c2", str(wav), str(out)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wav.unlink()
        tmp.unlink()
        add_ape(out, tags or {})
        return out
    if ext == "mkvmerge.mka":  # mkvmerge's Matroska: tags as global tags (TargetTypeValue 50, with languages)
        opus = out.with_suffix(".opus")
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tmp), *ENCODINGS[ext], str(opus)], check=True)
        simple = "".join(f"<Simple><Name>{k.upper()}</Name><String>{escape(v)}</String><TagLanguage>eng</TagLanguage>"
                         "</Simple>" for k, v in (tags or {}).items() if k != "title")
        xml = out.with_suffix(".xml")
        xml.write_text(f"<Tags><Tag><Targets><TargetTypeValue>50</TargetTypeValue></Targets>{simple}</Tag></Tags>")
        title = ["--title", tags["title"]] if tags and "title" in tags else []
        subprocess.run(["mkvmerge", "-q", "-o", str(out), *title, *(["--global-tags", str(xml)] if simple else []),
                        str(opus)], check=True)
        for done in (opus, xml, tmp):
            done.unlink()
        return out
    if ext == "aac.caf":  # ffmpeg cannot put AAC in CAF: its ADTS stream is repacked here; the tags go in with ours
        adts = out.with_suffix(".adts.aac")
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tmp), *ENCODINGS[ext], str(adts)], check=True)
        write_caf_aac(out, adts, len(audio))
        for done in (adts, tmp):
            done.unlink()
        if tags:
            from desktop.core.caf import CAF

            file = CAF(out)
            file.add_tags()
            for key, value in tags.items():
                file.tags[key] = [value]
            file.save()
        return out
    if ext in ("mp2", "ac3"):  # ffmpeg's muxers for these write no tag
        subprocess.run(["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tmp), *ENCODINGS[ext], str(out)], check=True)
        tmp.unlink()
        if tags:
            (add_id3 if ext == "mp2" else add_ape)(out, tags)
        return out
    meta = [a for k, v in (tags or {}).items() for a in ("-metadata", f"{k}={v}")]
    cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(tmp), *ENCODINGS[ext], *meta]
    if ext in ("mp3", "wav", "aiff", "aifc"):
        cmd += ["-write_id3v2", "1"] if ext != "mp3" else ["-id3v2_version", "4"]
    subprocess.run([*cmd, str(out)], check=True)
    tmp.unlink()
    return out


def make_track(folder: Path, name: str, genre: str, ext: str, seconds: float = 4.0, seed: int = 0,
               tags: dict[str, str] | None = None, sample_rate: int = 22050) -> Path:
    """One synthetic track of `genre` ('tones', 'noise', 'beats') encoded as `ext`."""
    audio = synth_track(genre, seconds, sample_rate, np.random.default_rng(seed))
    return encode(audio, sample_rate, folder / f"{name}.{ext}", ext, tags)


def make_protected_m4p(folder: Path, name: str, tags: dict[str, str] | None = None) -> Path:
    """An iTunes Store .m4p as its layout has it: an AAC file whose sample entry says FairPlay ('drms' for 'mp4a'),
    though its bytes here are not encrypted (no encoder reachable encrypts them)."""
    song = make_track(folder, f"{name}-plain", "tones", "m4a", 3.0, tags=tags)
    data = bytearray(song.read_bytes())
    at = data.index(b"mp4a")
    data[at:at + 4] = b"drms"
    song.unlink()
    out = folder / f"{name}.m4p"
    out.write_bytes(bytes(data))
    return out


def make_library(root: Path, seconds: float = 4.0) -> dict[str, Path]:
    """One track per format, genres rotating, a couple with genre tags already; {ext: path}."""
    genres = ["tones", "noise", "beats"]
    paths = {}
    for i, ext in enumerate(ENCODINGS):
        tags = {"title": f"Track {i}", "artist": f"Artist {i % 3}", "album": "Synth"}
        paths[ext] = make_track(root / genres[i % 3], f"track{i}", genres[i % 3], ext, seconds, seed=i, tags=tags)
    return paths
