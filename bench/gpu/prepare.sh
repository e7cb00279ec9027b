#!/usr/bin/env bash
# Builds .gpu/ (git-ignored): what bench/gpu/run.sh needs on a lent GPU machine, which reaches no
# package registry. Run it here, then call the device tool once:
#   run(command="bash bench/gpu/run.sh", carry=[".gpu"], timeout_s=540)
#
#   deno.xz              this machine's Deno, xz-compressed (96 -> 31 MB)
#   bench.js profile.js  bench/main.ts and bench/profile.ts, each bundled with its npm packages
#   torch_reference.py   beside bench.js, where the bench looks for it
#   debs/                the Vulkan and EGL loaders (Debian); the NVIDIA driver brings the ICD
# About 33 MB in all, under the tool's 64 MiB for a call.
set -euo pipefail
cd "$(dirname "$0")/../.."
tmp=.gpu.tmp
rm -rf "$tmp"
mkdir -p "$tmp/debs"
deno_bin=$(readlink -f "$(command -v deno)")
echo "deno: $deno_bin ($(deno --version | head -1))"
xz -T0 -6 -c "$deno_bin" >"$tmp/deno.xz"
deno bundle --quiet --platform deno -o "$tmp/bench.js" bench/main.ts
deno bundle --quiet --platform deno -o "$tmp/profile.js" bench/profile.ts
cp bench/torch_reference.py "$tmp/"
debs="libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2"
# shellcheck disable=SC2086
if ! (cd "$tmp/debs" && apt-get download $debs >/dev/null 2>&1); then
  apt-get update -qq
  (cd "$tmp/debs" && apt-get download $debs >/dev/null)
fi
rm -rf .gpu
mv "$tmp" .gpu
du -sh .gpu
ls .gpu .gpu/debs
