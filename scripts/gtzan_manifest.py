"""Write a trainer manifest (path,label,artist) for the GTZAN clips in ../shared/datasets/gtzan.

Artists come from Sturm's artist-filtered 3-fold split (its *_groups.txt files give an artist
id per clip), so cross-validation can keep each artist on one side. Works for any subset of
GTZAN laid out the same way (labels.csv with path,genre,clip_id).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def artist_ids(split_dir: Path) -> dict[str, str]:
    """clip id (blues.00012) -> artist id, from every *_groups.txt file."""
    ids: dict[str, str] = {}
    for path in sorted(split_dir.glob("*_groups.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            parts = line.split()
            if len(parts) >= 2:
                clip = Path(parts[0]).stem.replace("_", ".")  # ./blues_00012.wav -> blues.00012
                ids[clip] = parts[-1]
    return ids


def main(argv=None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gtzan", default="../shared/datasets/gtzan", help="folder with labels.csv and splits/")
    parser.add_argument("--out", required=True, help="manifest CSV to write")
    args = parser.parse_args(argv)
    root = Path(args.gtzan).resolve()
    labels = root / "labels.csv"
    if not labels.is_file():
        print(f"error: {labels}: not found", file=sys.stderr)
        return 2
    artists = artist_ids(root / "splits" / "sturm_3fold_artist_filtered")
    with open(labels, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "label", "artist"])
        for row in rows:
            # Clips with no artist id are their own group: never merged with another artist by mistake.
            artist = artists.get(row["clip_id"])
            writer.writerow([root / row["path"], row["genre"], f"artist-{artist}" if artist else ""])
    print(f"{len(rows)} clips, {sum(1 for r in rows if r['clip_id'] in artists)} with an artist id -> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
