#!/usr/bin/env bash
# System packages the tests need: ffmpeg (encodes MP3/M4A/Opus test files, decodes M4A),
# Xvfb (screenshots), the libraries Qt's offscreen platform loads, appstream (metainfo validation), and
# fluidsynth with a General MIDI soundfont (the trainer's band arrangements, `python -m trainer band`),
# dbus-daemon (a private session bus with a stand-in file manager, for Show in Folder), musepack-tools (mpcenc:
# ffmpeg decodes Musepack but cannot encode it), libjmac-java with a Java runtime (jmac: the same for Monkey's Audio),
# mkvtoolnix (mkvmerge: Matroska files laid out as most are, besides ffmpeg's), exfatprogs and exfat-fuse (a USB
# stick's exFAT, blind to case, mounted as root for real).
set -euo pipefail
packages=(ffmpeg xvfb libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
          libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
          libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core appstream
          fluidsynth fluid-soundfont-gm dbus-daemon musepack-tools libjmac-java default-jre-headless
          mkvtoolnix exfatprogs exfat-fuse)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "Please install with your package manager: ${missing[*]}" >&2
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
