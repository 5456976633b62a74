#!/usr/bin/env bash
# Fetches the newest CPython interpreters this machine kind can get, into a cache outside the
# clone, and writes a launcher for each under $CACHE/pythons/bin (the tests discover them there):
#   python3.14, python3.14d, python3.14-nopie, python3.15, python3.15d, python3.15-nopie
#       Debian unstable's binary packages, unpacked into a small root filesystem, run chrooted
#   python3.13t   free-threaded 3.13 built from Debian stable's python3.13 source package
# Each piece is keyed by its package version and reused when present. A piece that cannot be had
# is reported and skipped (exit 0): the tests then say which interpreters they skip.
set -uo pipefail
CACHE="${PYFLAME_TS_CACHE:-/var/cache/pyflame-ts}/pythons"
BIN="$CACHE/bin"
APT="$CACHE/apt"
mkdir -p "$BIN" "$APT/lists/partial" "$APT/cache/archives/partial"

log() { echo "pythons: $*" >&2; }

# The archive address comes from the machine's own apt sources; it is never written here.
uri="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null)"
[[ -n "$uri" ]] || uri="$(awk '/^deb /{print $2; exit}' /etc/apt/sources.list 2>/dev/null)"
if [[ -z "$uri" ]]; then log "no Debian archive in the apt sources; nothing fetched"; exit 0; fi
printf 'deb %s sid main\ndeb-src %s stable main\n' "$uri" "$uri" > "$APT/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Debug::NoLocking=1)
if ! apt-get -qq "${aptopts[@]}" update >&2; then log "apt update of the private lists failed"; exit 0; fi
candidate() { apt-cache "${aptopts[@]}" policy "$1" 2>/dev/null | awk '/Candidate:/{print $2}'; }

# A launcher that runs an interpreter of a root filesystem: a private mount namespace binds the
# host folders tests use (same paths inside), mounts /proc, then chroots into the root.
write_launcher() { # name root interpreter-inside-root
  local name="$1" root="$2" exe="$3"
  cat > "$BIN/$name" <<LAUNCHER
#!/bin/sh
# Runs $exe of $root with the host's /tmp, /work, /root, /home, /dev and the current folder visible.
exec unshare --mount --propagation private -- /bin/sh -c '
root="\$1"; shift
for d in /dev /tmp /work /root /home /var/tmp "\$(pwd | cut -d/ -f1-2)"; do
  [ -d "\$d" ] || continue
  mkdir -p "\$root\$d" && mount --rbind "\$d" "\$root\$d" 2>/dev/null
done
mkdir -p "\$root/proc" && mount -t proc proc "\$root/proc" 2>/dev/null
exec unshare --root="\$root" --wd="\$(pwd)" "\$@"' sh "$root" $exe "\$@"
LAUNCHER
  chmod +x "$BIN/$name"
}

fetch_sid_root() {
  local v14 v15 key root
  v14="$(candidate python3.14)"; v15="$(candidate python3.15)"
  if [[ -z "$v14" && -z "$v15" ]]; then log "unstable has no python3.14 or python3.15"; return; fi
  key="sid-py3.14_${v14:-none}-py3.15_${v15:-none}"
  root="$CACHE/$key"
  if [[ ! -f "$root/.complete" ]]; then
    log "unpacking Debian unstable's 3.14 ${v14:-(absent)} and 3.15 ${v15:-(absent)} into $root"
    rm -rf "$root" "$root.debs"; mkdir -p "$root" "$root.debs"
    local pkgs=(libc6 zlib1g libexpat1 libzstd1 libffi8 libbz2-1.0 liblzma5 libmpdec4 libssl3t64
      libgcc-s1 libuuid1 libsqlite3-0 libncursesw6 libtinfo6 libreadline8t64 libgdbm6t64 libdb5.3t64
      media-types tzdata netbase)
    local v
    for v in 3.14 3.15; do
      [[ -n "$(candidate python$v)" ]] || continue
      pkgs+=("python$v-minimal" "libpython$v-minimal" "libpython$v-stdlib" "python$v"
        "python$v-dbg" "libpython$v-dbg" "python$v-nopie")
    done
    if ! (cd "$root.debs" && apt-get -qq "${aptopts[@]}" download "${pkgs[@]}" >&2); then
      log "downloading the unstable packages failed"; rm -rf "$root" "$root.debs"; return
    fi
    local deb
    for deb in "$root.debs"/*.deb; do
      case "$deb" in
        *-nopie_*) # ships /usr/bin/python3.X itself: unpack aside and keep it under another name
          local side; side="$(mktemp -d)"; dpkg-deb -x "$deb" "$side"
          for exe in "$side"/usr/bin/python3.*; do
            [[ -f "$exe" && ! -L "$exe" ]] && mkdir -p "$root/usr/bin" && cp "$exe" "$root/usr/bin/$(basename "$exe")-nopie"
          done
          rm -rf "$side" ;;
        *) dpkg-deb -x "$deb" "$root" ;;
      esac
    done
    for d in lib lib64 bin sbin; do [[ -e "$root/$d" ]] || ln -s "usr/$d" "$root/$d"; done
    mkdir -p "$root/usr/lib64"
    rm -rf "$root.debs"
    touch "$root/.complete"
  fi
  # A tool run inside the root (CPython 3.15's sampler) sees another launcher's target through
  # /proc/PID/maps under its host path: make that path lead back to the root itself.
  mkdir -p "$root$(dirname "$root")" && ln -sfn / "$root$root"
  local exe
  for exe in python3.14 python3.14d python3.14-nopie python3.15 python3.15d python3.15-nopie; do
    if [[ -x "$root/usr/bin/$exe" ]]; then write_launcher "$exe" "$root" "/usr/bin/$exe"; else rm -f "$BIN/$exe"; fi
  done
}

build_free_threaded() {
  local v key prefix
  v="$(apt-cache "${aptopts[@]}" showsrc python3.13 2>/dev/null | awk '/^Version:/{print $2; exit}')"
  if [[ -z "$v" ]]; then log "stable has no python3.13 source package"; return; fi
  key="python3.13t-$v"; prefix="$CACHE/$key"
  if [[ ! -x "$prefix/bin/python3.13t" ]]; then
    log "building free-threaded CPython from python3.13 $v (about 8 minutes on 2 cores)"
    local need=() pkg
    for pkg in build-essential dpkg-dev zlib1g-dev libffi-dev libssl-dev libbz2-dev liblzma-dev libsqlite3-dev; do
      dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
    done
    if ((${#need[@]})); then apt-get -qq update >&2; apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 || { log "build packages missing"; return; }; fi
    local work; work="$(mktemp -d "$CACHE/build.XXXXXX")"
    if ! (cd "$work" && apt-get -qq "${aptopts[@]}" source --download-only "python3.13=$v" >&2 \
        && dpkg-source -x --skip-patches ./*.dsc src >&2 \
        && cd src && ./configure --disable-gil --prefix="$prefix" --without-ensurepip >"$work/configure.log" 2>&1 \
        && nice -n 10 make -j2 >"$work/make.log" 2>&1 && make altinstall >"$work/install.log" 2>&1); then
      log "building 3.13t failed (logs in $work)"; return
    fi
    rm -rf "$work"
  fi
  ln -sf "$prefix/bin/python3.13t" "$BIN/python3.13t"
}

fetch_sid_root
build_free_threaded
log "launchers: $(ls "$BIN" | tr '\n' ' ')"
