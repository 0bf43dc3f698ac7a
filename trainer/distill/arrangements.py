"""Band arrangements in popular styles, written as General MIDI files for unlabelled distillation windows.

The corpus of Debian game music holds almost no rock, blues, country, reggae, hip-hop, disco or jazz
(models/default.md), so the student never hears the teacher answer on a drum kit with a bass and a
strummed guitar. These pieces are not labelled and their style names never reach a loss: they only
widen what the student hears, and the teacher says what each window is. Each style is a tempo range,
a chord progression, a drum pattern, a bass figure, a comping rhythm and instruments to draw from;
every piece draws its own key, tempo, instruments, groove variations and melody.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np

TICKS_PER_BEAT = 480
STEP = TICKS_PER_BEAT // 4  # one 16th note
DRUM_CHANNEL = 9

# General MIDI percussion keys.
KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HAT, PEDAL_HAT, OPEN_HAT, CRASH, RIDE, TAMBOURINE, COWBELL = (
    36, 37, 38, 39, 42, 44, 46, 49, 51, 54, 56)
LOW_TOM, MID_TOM, HIGH_TOM = 45, 47, 50

# Scales as semitones above the key; chords as scale-independent semitone stacks over their root.
SCALES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "major_pentatonic": (0, 2, 4, 7, 9),
    "minor_pentatonic": (0, 3, 5, 7, 10),
    "blues": (0, 3, 5, 6, 7, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
}
CHORDS = {"maj": (0, 4, 7), "min": (0, 3, 7), "7": (0, 4, 7, 10), "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10),
          "5": (0, 7, 12)}


@dataclass(frozen=True)
class Style:
    """How one style's band plays: every pattern is a 16-step bar (x = hit, X = accent, . = rest)."""

    tempo: tuple[int, int]  # beats per minute, drawn uniformly
    progressions: tuple[tuple[tuple[int, str], ...], ...]  # bars of (root in semitones above the key, chord)
    drums: tuple[dict[int, str], ...]  # alternative grooves: percussion key -> pattern
    bass: str  # one of BASS_FIGURES
    comp: tuple[str, ...]  # comping rhythms (patterns) for the chord instrument
    programs_bass: tuple[int, ...]
    programs_comp: tuple[int, ...]
    programs_lead: tuple[int, ...]
    scale: str = "major"
    swing: float = 0.0  # how far the off-beat 16ths (or 8ths, with swing_eighths) are pushed late, 0..0.66
    swing_eighths: bool = False
    comp_register: int = 60  # lowest note of the comping chord
    lead_register: int = 67
    lead_density: float = 0.35  # chance of a note on each 8th


BASS_FIGURES = ("root_eighths", "root_fifth", "walking", "offbeat", "octaves", "long", "sixteenths")

I_IV_V = ((0, "maj"), (5, "maj"), (7, "maj"), (0, "maj"))
POP = ((0, "maj"), (7, "maj"), (9, "min"), (5, "maj"))
ROCK_MINOR = ((0, "5"), (8, "5"), (3, "5"), (10, "5"))
TWELVE_BAR = ((0, "7"),) * 4 + ((5, "7"),) * 2 + ((0, "7"),) * 2 + ((7, "7"), (5, "7"), (0, "7"), (7, "7"))
II_V_I = ((2, "min7"), (7, "7"), (0, "maj7"), (0, "maj7"), (9, "min7"), (2, "min7"), (7, "7"), (0, "maj7"))
MINOR_LOOP = ((0, "min7"), (8, "maj7"), (3, "maj7"), (10, "7"))

STYLES: dict[str, Style] = {
    "rock": Style((100, 150), (I_IV_V, ROCK_MINOR, POP),
                  ({KICK: "x.......x.x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                   {KICK: "x.....x.x.......", SNARE: "....X.......X...", OPEN_HAT: "x.x.x.x.x.x.x.x."}),
                  "root_eighths", ("x.x.x.x.x.x.x.x.", "x..x..x.x..x..x."), (33, 34), (29, 30, 27), (29, 30, 81),
                  scale="minor_pentatonic", comp_register=52),
    "metal": Style((140, 200), (ROCK_MINOR, ((0, "5"), (1, "5"), (0, "5"), (10, "5"))),
                   ({KICK: "xxxxxxxxxxxxxxxx", SNARE: "....X.......X...", CRASH: "x.......x......."},
                    {KICK: "x.x.x.x.x.x.x.x.", SNARE: "....X.......X...", RIDE: "x.x.x.x.x.x.x.x."}),
                   "sixteenths", ("xxxxxxxxxxxxxxxx", "x.xxx.xxx.xxx.xx"), (33, 34), (30,), (30, 29),
                   scale="minor", comp_register=40, lead_density=0.6),
    "blues": Style((70, 120), (TWELVE_BAR,),
                   ({KICK: "x.......x.......", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                    {KICK: "x.....x.x.......", SNARE: "....x.......x...", RIDE: "x.x.x.x.x.x.x.x."}),
                   "walking", ("x.x.x.x.x.x.x.x.", "..x...x...x...x."), (32, 33), (0, 16, 27, 26), (27, 22, 65, 66),
                   scale="blues", swing=0.5, swing_eighths=True),
    "country": Style((100, 160), (I_IV_V, ((0, "maj"), (0, "maj"), (5, "maj"), (7, "maj"))),
                     ({KICK: "x.......x.......", SNARE: "....x.......x...", CLOSED_HAT: "..x...x...x...x."},
                      {KICK: "x.......x.......", SNARE: "x.xxx.xxx.xxx.xx"}),
                     "root_fifth", ("x...x.x.x...x.x.", "x.x.x.x.x.x.x.x."), (32, 33), (25, 24), (110, 40, 105, 26),
                     scale="major_pentatonic", comp_register=55, lead_density=0.5),
    "reggae": Style((65, 85), (((0, "min"), (5, "min")), ((0, "maj"), (5, "maj"), (7, "maj"), (5, "maj"))),
                    ({KICK: "........x.......", SIDE_STICK: "........x.......", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                     {KICK: "x.......x.......", SNARE: "........x.......", CLOSED_HAT: "..x...x...x...x."}),
                    "offbeat", ("....x.......x...", "..x...x...x...x."), (33, 38), (16, 17, 27, 28), (16, 22, 56),
                    scale="minor", swing=0.2),
    "hiphop": Style((80, 98), (MINOR_LOOP, ((0, "min7"), (5, "min7"))),
                    ({KICK: "x......x..x.....", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                     {KICK: "x.x.......x..x..", CLAP: "....x.......x...", CLOSED_HAT: "xxxxxxxxxxxxxxxx"}),
                    "long", ("x...............", "x.......x......."), (38, 39, 33), (4, 0, 48, 89), (11, 0, 4, 80),
                    scale="minor", swing=0.25, comp_register=55, lead_density=0.25),
    "disco": Style((110, 128), (MINOR_LOOP, POP),
                   ({KICK: "x...x...x...x...", SNARE: "....x.......x...", OPEN_HAT: "..x...x...x...x."},
                    {KICK: "x...x...x...x...", CLAP: "....x.......x...", CLOSED_HAT: "xxxxxxxxxxxxxxxx"}),
                   "octaves", ("xxxxxxxxxxxxxxxx", "..x...x...x...x."), (33, 38), (28, 48, 61), (61, 48, 81),
                   scale="dorian", lead_density=0.3),
    "pop": Style((90, 130), (POP, I_IV_V),
                 ({KICK: "x.......x.......", SNARE: "....x.......x...", CLOSED_HAT: "x.x.x.x.x.x.x.x."},
                  {KICK: "x..x..x.x.......", CLAP: "....x.......x...", TAMBOURINE: "..x...x...x...x."}),
                 "root_eighths", ("x.x.x.x.x.x.x.x.", "x...x...x...x..."), (33, 38), (0, 4, 88, 24), (80, 73, 52, 0),
                 scale="major"),
    "jazz": Style((110, 200), (II_V_I,),
                  ({RIDE: "x..xx..xx..xx..x", PEDAL_HAT: "....x.......x...", KICK: "x..............."},
                   {RIDE: "x...x..xx...x..x", PEDAL_HAT: "....x.......x...", SNARE: "......x.......x."}),
                  "walking", ("x.....x...x.....", "...x......x....."), (32,), (0, 26, 4), (65, 66, 56, 57, 11),
                  scale="dorian", swing=0.6, swing_eighths=True, lead_density=0.6),
    "classical": Style((60, 120), (I_IV_V, ((0, "maj"), (9, "min"), (2, "min"), (7, "7"))),
                       ({},), "long", ("x.x.x.x.x.x.x.x.", "x...x...x...x..."), (42, 43), (48, 49, 0, 6, 46),
                       (73, 68, 40, 71, 0), scale="major", lead_density=0.5),
}


def style_names() -> list[str]:
    """The styles compose() knows, in a fixed order."""
    return list(STYLES)


@dataclass
class Note:
    """One note or drum hit, in ticks from the start of the piece."""

    channel: int
    key: int
    start: int
    length: int
    velocity: int


def compose(style_name: str, rng: np.random.Generator, seconds: float) -> tuple[list[Note], dict[int, int], int]:
    """A piece of about `seconds` in one style: (notes, channel -> GM program, tempo in beats per minute).

    KeyError for a style compose() does not know."""
    style = STYLES[style_name]
    tempo = int(rng.integers(style.tempo[0], style.tempo[1] + 1))
    key = int(rng.integers(0, 12))
    progression = style.progressions[rng.integers(len(style.progressions))]
    bars = max(1, int(np.ceil(seconds * tempo / 60 / 4)))
    programs = {0: int(rng.choice(style.programs_bass)), 1: int(rng.choice(style.programs_comp)),
                2: int(rng.choice(style.programs_lead))}
    comp_rhythm = style.comp[rng.integers(len(style.comp))]
    scale = SCALES[style.scale]
    notes: list[Note] = []
    melody_pitch = style.lead_register + key % 12
    for bar in range(bars):
        root_offset, chord = progression[bar % len(progression)]
        root = key + root_offset
        groove = style.drums[(bar // 8) % len(style.drums)] if rng.random() > 0.15 else style.drums[0]
        notes += drum_bar(groove, bar, rng, fill=(bar % 8 == 7 and bool(style.drums[0])))
        notes += bass_bar(style.bass, root, chord, bar, rng)
        notes += comp_bar(comp_rhythm, root, chord, style.comp_register, bar, rng)
        lead, melody_pitch = lead_bar(key, scale, style.lead_density, melody_pitch, style.lead_register, bar, rng)
        notes += lead
    notes = [swung(n, style.swing, style.swing_eighths) for n in notes]
    return humanised(notes, rng), programs, tempo


def hits(pattern: str, bar: int) -> list[tuple[int, int]]:
    """(tick, velocity) of each hit of a 16-step pattern in bar `bar`."""
    return [(bar * 16 * STEP + i * STEP, 112 if c == "X" else 92) for i, c in enumerate(pattern) if c in "xX"]


def drum_bar(groove: dict[int, str], bar: int, rng: np.random.Generator, fill: bool) -> list[Note]:
    """One bar of the drum kit; a tom fill in the last beat of every eighth bar, a crash after it."""
    notes = []
    for drum, pattern in groove.items():
        for tick, velocity in hits(pattern, bar):
            if fill and tick >= bar * 16 * STEP + 12 * STEP:
                continue
            notes.append(Note(DRUM_CHANNEL, drum, tick, STEP, velocity))
    if fill:
        for i, tom in enumerate((HIGH_TOM, HIGH_TOM, MID_TOM, LOW_TOM)):
            notes.append(Note(DRUM_CHANNEL, tom, bar * 16 * STEP + (12 + i) * STEP, STEP, 100))
    if bar % 8 == 0 and groove and rng.random() < 0.7:
        notes.append(Note(DRUM_CHANNEL, CRASH, bar * 16 * STEP, 4 * STEP, 100))
    return notes


def bass_bar(figure: str, root: int, chord: str, bar: int, rng: np.random.Generator) -> list[Note]:
    """One bar of the bass line (E1..E3) following the chord root."""
    low = 28 + (root - 28) % 12  # the root between E1 and D#2
    third = CHORDS[chord][1] if CHORDS[chord][1] < 12 else 7
    start = bar * 16 * STEP
    if figure == "root_eighths":
        return [Note(0, low, start + i * 2 * STEP, 2 * STEP - 10, 96) for i in range(8)]
    if figure == "sixteenths":
        return [Note(0, low, start + i * STEP, STEP - 10, 100) for i in range(16)]
    if figure == "root_fifth":
        return [Note(0, low + (0, 7)[i % 2], start + i * 4 * STEP, 3 * STEP, 96) for i in range(4)]
    if figure == "octaves":
        return [Note(0, low + (0, 12)[i % 2], start + i * 2 * STEP, STEP + 40, 100) for i in range(8)]
    if figure == "offbeat":  # reggae: the root and the third, leaving beat one empty
        steps = ((2, 0), (3, 0), (6, third), (8, 7), (11, 0), (14, 12))
        return [Note(0, low + p, start + s * STEP, 2 * STEP, 96) for s, p in steps if rng.random() < 0.9]
    if figure == "walking":
        tones = [0, third, 7, int(rng.choice((10, 9, 6, 12)))]
        return [Note(0, low + p, start + i * 4 * STEP, 4 * STEP - 20, 90 + int(rng.integers(-8, 9)))
                for i, p in enumerate(tones)]
    if figure == "long":
        return [Note(0, low, start, 8 * STEP, 100), Note(0, low + int(rng.choice((0, 7, 12))), start + 8 * STEP,
                                                         6 * STEP, 90)]
    raise ValueError(f"unknown bass figure {figure!r} (known: {', '.join(BASS_FIGURES)})")


def comp_bar(rhythm: str, root: int, chord: str, register: int, bar: int, rng: np.random.Generator) -> list[Note]:
    """One bar of chords on the comping instrument, voiced just above `register`."""
    base = register + (root - register) % 12
    notes = []
    on = [tick for tick, _ in hits(rhythm, bar)]
    for k, tick in enumerate(on):
        length = (on[k + 1] if k + 1 < len(on) else (bar + 1) * 16 * STEP) - tick
        velocity = int(rng.integers(70, 96))
        notes += [Note(1, base + interval, tick, max(STEP // 2, length - 20), velocity) for interval in CHORDS[chord]]
    return notes


def lead_bar(key: int, scale: tuple[int, ...], density: float, pitch: int, register: int, bar: int,
             rng: np.random.Generator) -> tuple[list[Note], int]:
    """One bar of melody: a random walk over the scale's notes near `register`; returns the notes and where it ended."""
    pool = [n for n in range(register - 7, register + 17) if (n - key) % 12 in scale]
    index = int(np.argmin([abs(n - pitch) for n in pool]))
    notes = []
    if rng.random() < 0.25:  # the lead rests some bars, as a singer or soloist would
        return notes, pool[index]
    for eighth in range(8):
        if rng.random() >= density:
            continue
        index = int(np.clip(index + rng.choice((-2, -1, -1, 0, 1, 1, 2)), 0, len(pool) - 1))
        length = int(rng.choice((2, 2, 3, 4))) * STEP
        notes.append(Note(2, pool[index], bar * 16 * STEP + eighth * 2 * STEP, length, int(rng.integers(80, 110))))
    return notes, pool[index]


def swung(note: Note, swing: float, eighths: bool) -> Note:
    """Push off-beat 16ths (or 8ths) late by `swing` of a step: a shuffle feel."""
    unit = 2 * STEP if eighths else STEP
    if swing and (note.start // unit) % 2 == 1 and note.start % unit == 0:
        note.start += int(swing * unit / 2)
    return note


def humanised(notes: list[Note], rng: np.random.Generator) -> list[Note]:
    """Small random timing (about 5 ms) and velocity changes, so no two bars are identical."""
    for note in notes:
        note.start = max(0, note.start + int(rng.integers(-12, 13)))
        note.velocity = int(np.clip(note.velocity + rng.integers(-10, 11), 30, 127))
    return notes


def midi_bytes(notes: list[Note], programs: dict[int, int], tempo: int) -> bytes:
    """A type-0 Standard MIDI File of the piece."""
    events: list[tuple[int, int, bytes]] = [(0, 0, b"\xff\x51\x03" + (60_000_000 // tempo).to_bytes(3, "big"))]
    events += [(0, 1, bytes((0xC0 | channel, program))) for channel, program in programs.items()]
    for n in notes:
        # Offs sort before ons at the same tick, so a repeated key is not cut by its predecessor's end.
        events.append((n.start, 3, bytes((0x90 | n.channel, n.key, n.velocity))))
        events.append((n.start + n.length, 2, bytes((0x80 | n.channel, n.key, 0))))
    events.sort(key=lambda e: (e[0], e[1]))
    track, now = bytearray(), 0
    for tick, _order, message in events:
        track += variable_length(tick - now) + message
        now = tick
    track += variable_length(0) + b"\xff\x2f\x00"
    header = b"MThd" + struct.pack(">IHHH", 6, 0, 1, TICKS_PER_BEAT)
    return header + b"MTrk" + struct.pack(">I", len(track)) + bytes(track)


def variable_length(value: int) -> bytes:
    """MIDI's variable-length quantity: 7 bits per byte, high bit set on all but the last."""
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))
