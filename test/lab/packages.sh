#!/bin/sh
# Installs what the lab needs, when it is missing: Debian's chasquid (1.11 on Debian 12), OpenSSH's server, Knot DNS,
# pebble (2.4 on Debian 12), dkimpy (for the 1.11 post-data hook), nftables (host-setup.sh's firewall report, read in a
# network namespace of the test's own), pyspf and PyYAML (pyspf ships the RFC 7208 test suite the SPF analysis is
# tested against; PyYAML reads it) and swaks; and chasquid 1.15 and pebble 2.6 (which serves ACME Renewal Information
# and accepts `replaces`) from Debian 13 (trixie), unpacked into /var/cache/mailops-lab/ without touching the system's
# apt configuration. Idempotent and quiet when everything is there.
# Runs as root (CI does); a machine without root must have the packages installed already.
#
# The cache is root-owned and outside the checkout on purpose: the lab runs chasquid as the `chasquid` user, which
# must be able to enter every directory above the binary — and a checkout in root's home (mode 0700) is closed to it.
set -eu
umask 022

cache=/var/cache/mailops-lab
packages="chasquid openssh-server knot knot-dnsutils pebble python3-dkim nftables python3-spf python3-yaml swaks openssl git util-linux procps sudo systemd"

missing=""
for package in $packages; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $package"
done

if [ -n "$missing" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "lab: missing Debian packages:$missing — install them as root (apt-get install$missing)" >&2
    exit 1
  fi
  echo "lab: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null || { echo "lab: apt-get update failed" >&2; exit 1; }
  # Keep the packaged daemons from starting on the system's ports; the lab starts its own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
  # shellcheck disable=SC2086
  apt-get install -y -q --no-install-recommends $missing >/dev/null || { rm -f /usr/sbin/policy-rc.d; echo "lab: apt-get install$missing failed" >&2; exit 1; }
  rm -f /usr/sbin/policy-rc.d
fi

# From Debian 13 (trixie), unpacked beside the system's packages: chasquid 1.15 and pebble 2.6.
trixie_work="$cache/apt-trixie"
trixie_options="-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts=$trixie_work/sources -o Dir::State::Lists=$trixie_work/lists -o Dir::Cache::Archives=$trixie_work/archives -o APT::Sandbox::User=root"
trixie_ready=""

# Reads trixie's package lists once, from the system's own Debian source (same mirror and keyring).
trixie_lists() {
  [ -z "$trixie_ready" ] || return 0
  work="$trixie_work"
  mkdir -p "$work/sources" "$work/lists/partial" "$work/archives/partial"
  chmod 0755 "$cache"
  sources=/etc/apt/sources.list.d/debian.sources
  if [ -f "$sources" ]; then
    # The system's Debian source (same mirror and keyring), for trixie's main suite only.
    awk 'BEGIN { RS = ""; ORS = "\n\n" } /URIs:[^\n]*\/debian(\n|$)/' "$sources" | sed -e 's/^Suites:.*/Suites: trixie/' > "$work/sources/trixie.sources"
  fi
  if [ ! -s "$work/sources/trixie.sources" ]; then
    # The one-line format (sources.list): the URI of the system's first Debian "deb" line.
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i ~ /\/debian\/?$/) { print $i; exit } }')
    [ -n "$uri" ] || { echo "lab: no Debian package source in /etc/apt to fetch $1 from (trixie)" >&2; exit 1; }
    printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri" > "$work/sources/trixie.sources"
  fi
  # shellcheck disable=SC2086
  apt-get $trixie_options update -q >/dev/null || { echo "lab: apt-get update for trixie failed" >&2; exit 1; }
  trixie_ready=1
}

# unpack_trixie PACKAGE DIRECTORY BINARY: downloads trixie's PACKAGE and unpacks it into $cache/DIRECTORY, unless
# BINARY (a path inside it) is already there.
unpack_trixie() {
  package=$1 target="$cache/$2" binary=$3
  [ ! -x "$target/$binary" ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "lab: $package from Debian 13 is not in $target — run test/lab/packages.sh as root once" >&2
    exit 1
  fi
  trixie_lists "$package"
  # shellcheck disable=SC2086
  (cd "$trixie_work" && rm -f "$package"_*.deb && apt-get $trixie_options download "$package" >/dev/null) || { echo "lab: downloading $package from trixie failed" >&2; exit 1; }
  rm -rf "$target.tmp"
  dpkg -x "$(ls "$trixie_work/$package"_*.deb | tail -n 1)" "$target.tmp"
  # Readable and runnable by everyone (chasquid runs as its own user), whatever modes the unpacking left.
  chmod -R go+rX,go-w "$target.tmp"
  rm -rf "$target"
  mv "$target.tmp" "$target"
}

unpack_trixie chasquid chasquid-1.15 usr/bin/chasquid
"$cache/chasquid-1.15/usr/bin/chasquid" -version >/dev/null
unpack_trixie pebble pebble-2.6 usr/bin/pebble
"$cache/pebble-2.6/usr/bin/pebble" -version >/dev/null
