#!/usr/bin/env bash
# Install the desktop integration (launcher, icons, AppStream metainfo) and, when built, the bundle.
#   packaging/install.sh [PREFIX]        # default PREFIX: ~/.local ; DESTDIR is honoured for staging
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${1:-${PREFIX:-$HOME/.local}}
DEST="${DESTDIR:-}$PREFIX"
SIZES="16 24 32 48 64 128 256 512"

install -Dm644 resources/genre-tagger.desktop "$DEST/share/applications/genre-tagger.desktop"
install -Dm644 resources/io.github.genretagger.GenreTagger.metainfo.xml \
  "$DEST/share/metainfo/io.github.genretagger.GenreTagger.metainfo.xml"
install -Dm644 resources/icons/genre-tagger.svg "$DEST/share/icons/hicolor/scalable/apps/genre-tagger.svg"
for s in $SIZES; do
  install -Dm644 "resources/icons/hicolor/${s}x${s}/apps/genre-tagger.png" \
    "$DEST/share/icons/hicolor/${s}x${s}/apps/genre-tagger.png"
done
# A user service for `scan --watch` (not enabled: systemctl --user enable --now genre-tagger-watch), in a folder
# systemd searches for each PREFIX (~/.local/share, /usr/local/share, /usr/share).
mkdir -p "$DEST/share/systemd/user"
sed "s|@BINDIR@|$PREFIX/bin|" resources/genre-tagger-watch.service > "$DEST/share/systemd/user/genre-tagger-watch.service"
chmod 644 "$DEST/share/systemd/user/genre-tagger-watch.service"
if [ -d dist/genre-tagger ]; then
  rm -rf "$DEST/lib/genre-tagger"
  mkdir -p "$DEST/lib" "$DEST/bin"
  cp -a dist/genre-tagger "$DEST/lib/genre-tagger"
  ln -sf ../lib/genre-tagger/genre-tagger-gui "$DEST/bin/genre-tagger-gui"
  ln -sf ../lib/genre-tagger/genre-tagger "$DEST/bin/genre-tagger"
  echo "installed the bundle in $DEST/lib/genre-tagger, commands in $DEST/bin"
else
  echo "no bundle in dist/ (packaging/build.sh makes one); the launcher runs genre-tagger-gui from your PATH"
fi
# Refresh the desktop's caches when the tools exist (they do not on a bare system or in a staging DESTDIR).
if [ -z "${DESTDIR:-}" ]; then
  command -v update-desktop-database >/dev/null && update-desktop-database -q "$DEST/share/applications" || true
  command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q -t "$DEST/share/icons/hicolor" || true
fi
echo "installed desktop entry, icons and metainfo under $DEST/share"
