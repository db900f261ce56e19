#!/usr/bin/env bash
# Hardening measured by a third party: OpenSCAP (oscap-chroot) with the SCAP
# Security Guide's "standard" profile over a stock mmdebstrap tree and over
# the same tree after Slipway's hardening (images/linux-node.toml's steps).
# Debian 12's ssg-debian ships content for Debian 11 only, so both trees are
# bullseye: the content's platform checks then apply.
#   bench/harden.sh [CACHE]   (needs network access to Debian's mirrors)
set -euo pipefail
cd "$(dirname "$0")/.."
cache=$(mkdir -p "${1:-build/bench-cache}" && cd "${1:-build/bench-cache}" && pwd)
for p in mmdebstrap openscap-scanner openscap-utils ssg-debian; do
  dpkg-query -W -f='${Status}' $p 2>/dev/null | grep -q 'install ok' || apt-get install -y -qq --no-install-recommends $p >/dev/null
done
ds=/usr/share/xml/scap/ssg/content/ssg-debian11-ds.xml
profile=xccdf_org.ssgproject.content_profile_standard
pkgs=systemd,systemd-sysv,openssh-server,nftables,auditd,chrony,iproute2,ca-certificates,sudo,login,passwd
if [ ! -f "$cache/stock.tar" ]; then
  mmdebstrap --variant=minbase --include=$pkgs bullseye "$cache/stock.part.tar" >"$cache/mmdebstrap.log" 2>&1
  mv "$cache/stock.part.tar" "$cache/stock.tar"
fi
rm -rf "$cache/stock" "$cache/hardened"
mkdir -p "$cache/stock" "$cache/hardened"
tar -C "$cache/stock" -xf "$cache/stock.tar"
tar -C "$cache/hardened" -xf "$cache/stock.tar"
build/cli/slipway build harden images/linux-node.toml --tree "$cache/hardened" >/dev/null
count() { grep -o "<xccdf:result>$2</xccdf:result>\|<result>$2</result>" "$1" | wc -l; }
for t in stock hardened; do
  oscap-chroot "$cache/$t" xccdf eval --profile $profile --results "$cache/$t.xml" "$ds" >"$cache/$t.log" 2>&1 || true
done
sp=$(count "$cache/stock.xml" pass) sf=$(count "$cache/stock.xml" fail)
hp=$(count "$cache/hardened.xml" pass) hf=$(count "$cache/hardened.xml" fail)
echo "SSG profile: $profile ($ds), trees: Debian 11 (bullseye) minbase + $pkgs"
printf '%-10s %6s %6s\n' tree pass fail
printf '%-10s %6d %6d\n' stock "$sp" "$sf"
printf '%-10s %6d %6d\n' hardened "$hp" "$hf"
echo "difference: $((hp - sp)) more rules pass, $((sf - hf)) fewer fail"
