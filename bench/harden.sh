#!/usr/bin/env bash
# Hardening measured by a third party: OpenSCAP (oscap-chroot) with the SCAP
# Security Guide's "standard" and ANSSI NT28 "high" profiles over a stock mmdebstrap tree and over
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
profiles="standard anssi_np_nt28_high"
# The packages of images/linux-node.toml (the kernel included: its System.map
# is checked), plus what a bullseye minbase needs for the content's checks.
pkgs=linux-image-amd64,systemd,systemd-sysv,openssh-server,nftables,auditd,chrony,iproute2,ca-certificates,sudo,login,passwd
tarball="$cache/stock-$(echo "$pkgs" | sha256sum | cut -c1-12).tar"
if [ ! -f "$tarball" ]; then
  mmdebstrap --variant=minbase --format=tar --include=$pkgs bullseye "$tarball.part" >"$cache/mmdebstrap.log" 2>&1
  mv "$tarball.part" "$tarball"
fi
rm -rf "$cache/stock" "$cache/hardened"
mkdir -p "$cache/stock" "$cache/hardened"
tar -C "$cache/stock" -xf "$tarball"
tar -C "$cache/hardened" -xf "$tarball"
build/cli/slipway build harden images/linux-node.toml --tree "$cache/hardened" >/dev/null
count() { grep -o "<xccdf:result>$2</xccdf:result>\|<result>$2</result>" "$1" | wc -l; }
echo "SSG content: $ds; trees: Debian 11 (bullseye) minbase + $pkgs"
for p in $profiles; do
  for t in stock hardened; do
    oscap-chroot "$cache/$t" xccdf eval --profile "xccdf_org.ssgproject.content_profile_$p" \
      --results "$cache/$t-$p.xml" "$ds" >"$cache/$t-$p.log" 2>&1 || true
  done
  sp=$(count "$cache/stock-$p.xml" pass) sf=$(count "$cache/stock-$p.xml" fail)
  hp=$(count "$cache/hardened-$p.xml" pass) hf=$(count "$cache/hardened-$p.xml" fail)
  echo
  echo "profile $p"
  printf '%-10s %6s %6s\n' tree pass fail
  printf '%-10s %6d %6d\n' stock "$sp" "$sf"
  printf '%-10s %6d %6d\n' hardened "$hp" "$hf"
  echo "difference: $((hp - sp)) more rules pass, $((sf - hf)) fewer fail"
  echo "still failing on the hardened tree:" $(grep -B3 '<result>fail</result>' "$cache/hardened-$p.xml" |
    grep -o 'content_rule_[a-z0-9_]*' | sed 's/content_rule_//' | sort -u)
  if grep -q 'dpkginfo_init has failed' "$cache/hardened-$p.log"; then
    echo "note: oscap's dpkginfo probe cannot start in chroot mode (\"dpkginfo_init has failed\"), so" \
      "no package_*_installed rule can pass (package_audit_installed fails on both trees, though auditd is installed)"
  fi
done
