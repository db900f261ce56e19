#!/usr/bin/env bash
# Fetches Debian's kernel for the boot tests: the linux-image-6.x package that
# linux-image-amd64 depends on, downloaded once with apt-get into CACHE and
# unpacked with dpkg-deb. Prints CACHE/kernel, a kernel tree with
# boot/vmlinuz-VERSION and lib/modules/VERSION (what `slipway build iso
# --kernel` takes).
#   tests/boot/fetch-kernel.sh CACHE
set -euo pipefail
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
# Boot tests run side by side (ctest -j): one fetches, the others wait.
exec 9>"$cache/.fetch.lock"
flock 9
kdeb=$(ls "$cache"/linux-image-6.*-amd64_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$kdeb" ]; then
  pkg=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-6/ {print $2; exit}')
  (cd "$cache" && apt-get download "$pkg" >/dev/null)
  kdeb=$(ls "$cache"/linux-image-6.*-amd64_*.deb | head -n 1)
fi
if [ ! -d "$cache/kernel" ]; then
  rm -rf "$cache/kernel.tmp" && dpkg-deb -x "$kdeb" "$cache/kernel.tmp" && mv "$cache/kernel.tmp" "$cache/kernel"
fi
echo "$cache/kernel"
