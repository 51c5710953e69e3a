#!/usr/bin/env bash
# Runs every test of gomaint: formatting, vet, the unit and integration
# tests (race detector on), and a smoke run of the benchmark harness.
#
# Many tests need root (tmpfs and bind mounts, chown to other users) and real
# tools (systemd-tmpfiles, journalctl, gdu). As root this script installs
# what is missing; as another user it says what is missing and stops.
set -euo pipefail
cd "$(dirname "$0")"

need_pkgs=()
command -v go >/dev/null || { echo "test.sh: the go command is not on PATH (install Go 1.24 or newer)" >&2; exit 1; }
command -v systemd-tmpfiles >/dev/null || need_pkgs+=(systemd)
command -v journalctl >/dev/null || need_pkgs+=(systemd)
command -v find >/dev/null || need_pkgs+=(findutils)
command -v setfacl >/dev/null || need_pkgs+=(acl)
command -v gdu >/dev/null || need_pkgs+=(gdu)
command -v promtool >/dev/null || need_pkgs+=(prometheus)          # promtool checks the alerting rules; the dashboard's pipeline test runs prometheus
command -v prometheus-node-exporter >/dev/null || need_pkgs+=(prometheus-node-exporter) # ... scraping gomaint.prom through node_exporter
command -v prometheus-alertmanager >/dev/null || need_pkgs+=(prometheus-alertmanager) # alerts sent to a real Alertmanager, queried with its amtool
command -v systemd-nspawn >/dev/null || need_pkgs+=(systemd-container) # end-to-end: a booted Debian
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
# Packaging checks: lintian, rpm (rpm -qp), rpmlint, the arm64 binary under qemu.
for tool in lintian:lintian rpm:rpm rpmlint:rpmlint cpio:cpio rpm2cpio:rpm2cpio qemu-aarch64-static:qemu-user-static man:man-db; do
  command -v "${tool%%:*}" >/dev/null || need_pkgs+=("${tool##*:}")
done
[ -f /usr/share/bash-completion/bash_completion ] || need_pkgs+=(bash-completion)
# Debian's own Go (bookworm's golang-go depends on it): check goroot --verify against dpkg's md5sums.
dpkg -s golang-1.19-go >/dev/null 2>&1 || need_pkgs+=(golang-1.19-go)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing ${need_pkgs[*]}; run as root to install them, or: sudo apt-get install ${need_pkgs[*]}" >&2
    exit 1
  fi
  echo "test.sh: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # Installing prometheus or prometheus-node-exporter would start their
  # services on the standard ports; the tests start their own on free
  # ports. A policy-rc.d that denies every start (unless the machine has
  # one already) keeps the install from starting anything.
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# test.sh: no service starts while it installs packages\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
  else
    policy=
  fi
  apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need_pkgs[@]}" >/dev/null; }
  if [ -n "$policy" ]; then rm -f "$policy"; trap - EXIT; fi
fi
if [ "$(id -u)" -ne 0 ]; then
  msg="test.sh: not root: the tests that need root (mounts, chown, other users) cannot run"
  if [ "${CI:-}" = true ]; then echo "$msg" >&2; exit 1; fi
  echo "$msg; they will be skipped" >&2
fi

# The arm64 tests below start arm64 programs (gomaint, an arm64 go, those of
# an arm64 root file system) directly: binfmt_misc hands them to qemu.
# Installing qemu-user-static registers it through systemd-binfmt when
# binfmt_misc is mounted; a VM or container without systemd may boot
# without it, so root mounts it first. Flag F (qemu opened at
# registration) lets qemu run them in a root that has no qemu of its own.
binfmt=/proc/sys/fs/binfmt_misc/qemu-aarch64
if ! grep -qx enabled "$binfmt" 2>/dev/null && [ "$(id -u)" -eq 0 ] && [ -f /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
  /usr/lib/systemd/systemd-binfmt /usr/lib/binfmt.d/qemu-aarch64.conf || true
fi
if ! grep -qx enabled "$binfmt" 2>/dev/null || ! grep -q '^flags: .*F' "$binfmt"; then
  echo "test.sh: qemu-aarch64 is not registered in binfmt_misc with flag F ($binfmt): mount binfmt_misc (mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc), then /usr/lib/systemd/systemd-binfmt" >&2
  exit 1
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "test.sh: gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
go vet -tags e2e ./packaging/e2e/
go vet -tags storm ./maint/daemon/
go test -race -count=1 -timeout 20m ./...
# The same tests for arm64 under qemu's user emulation, where statx also
# gives no mount id, as on Linux before 5.8 (RHEL 8): scan, safefs and
# trim must stop at mounts there too. The test binaries run with -exec
# qemu-aarch64-static; what they start (gomaint, helpers) runs through
# binfmt_misc.
#
# An arm64 gomaint rightly calls the host's amd64 Go GOROOT_INVALID, so
# the test binaries get $GOROOT: the arm64 release of this Go from the
# module proxy (checked against the checksum database), plus the host's
# pkg/tool/linux_amd64, so that the tests' go (the host's, honouring
# $GOROOT) still compiles natively; under emulation a build of a small
# module takes minutes. gomaint sees an arm64 bin/go, pkg/tool/linux_arm64
# and `go version` saying linux/arm64.
goversion=$(go env GOVERSION)
host_tools=$(go env GOROOT)/pkg/tool/$(go env GOHOSTOS)_$(go env GOHOSTARCH)
test_cache=/var/cache/gomaint-test # where maint/testenv keeps its directories
[ "$(id -u)" -eq 0 ] || test_cache=$HOME/.cache/gomaint-test
arm64_goroot=$test_cache/goroot-$goversion-linux_arm64
made="golang.org/toolchain@v0.0.1-$goversion.linux-arm64 with $host_tools"
if [ "$(cat "$arm64_goroot.made" 2>/dev/null)" != "$made" ]; then
  zip_dir=$(cd / && GOFLAGS= go mod download -json "golang.org/toolchain@v0.0.1-$goversion.linux-arm64" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$zip_dir/pkg/tool/linux_arm64" ] || { echo "test.sh: no arm64 release of $goversion from the module proxy (golang.org/toolchain)" >&2; exit 1; }
  mkdir -p "$test_cache"
  rm -rf "$arm64_goroot" "$arm64_goroot.tmp" "$arm64_goroot.made"
  cp -R "$zip_dir" "$arm64_goroot.tmp"
  chmod -R u+w,go-w "$arm64_goroot.tmp"
  # Module zips keep no execute bits; the go command sets them the same way.
  chmod +x "$arm64_goroot.tmp"/bin/* "$arm64_goroot.tmp"/pkg/tool/linux_arm64/*
  cp -a "$host_tools" "$arm64_goroot.tmp/pkg/tool/"
  mv "$arm64_goroot.tmp" "$arm64_goroot"
  echo "$made" >"$arm64_goroot.made"
fi
# Left out, by name:
qemu_skip=(
  # Checks the mount-id fallback against the kernel's own mount id, which
  # qemu does not pass on.
  TestMountIDFallback
  # qemu-user 7.2 deadlocks, now and then, the child of a multi-threaded
  # program whose execve fails: the forked qemu runs guest code again and
  # waits on a lock no thread of it holds (9 of 86 failed execs of gomaint
  # run under load, none of 472 that succeeded). Natively it cannot.
  TestRunCannotStart
  # qemu cannot clone into a new user namespace (EINVAL).
  TestLifecycleDegraded TestWatchLimitUserNamespace TestModulesLimitUserNamespace
  # The test itself fixes an amd64 Go, not $GOROOT: the daemon's PATH is
  # /usr/local/go/bin (nothing usable to verify), a copied GOROOT gets the
  # host go's pkg/tool/linux_amd64, Debian's Go is the amd64 golang-1.19-go.
  TestDaemonVerifies TestCheckGOROOTVerifyRecord TestCheckGOROOTRecordRefusesPackaged
)
GOARCH=arm64 go test -count=1 -timeout 20m -exec "env GOROOT=$arm64_goroot qemu-aarch64-static" \
  -skip "^($(IFS='|'; echo "${qemu_skip[*]}"))\$" ./...
# The Grafana dashboard's generator and its tests (the committed JSON, every
# query against what maint/metrics writes, the real daemon -> node_exporter
# -> prometheus pipeline) are a module of their own, which ./... does not enter.
(cd tools/dashboard && go vet ./... && go test -race -count=1 ./...)
# The fuzz targets on new inputs (their seed corpora in testdata/fuzz ran
# above, with everything they have found). A count, not a duration: go1.26's
# fuzz coordinator can fail a duration run at its deadline with "context
# deadline exceeded" and no crasher (go.dev/issue/75804, fixed in go1.27).
for fuzz in maint/config:FuzzParse maint/config:FuzzValue maint/tmpfiles:FuzzParse maint/layout:FuzzEntry maint/daemon:FuzzControlDecode maint/discover:FuzzGoEnv; do
  go test -run='^$' -fuzz="^${fuzz#*:}\$" -fuzztime=40000x "./${fuzz%%:*}"
done
# The daemon's growth storm measures how fast it trims: alone, no race
# detector. It is a race against the writer, so a loaded machine gets three
# attempts; a daemon that does not keep up fails all three.
storm_ok=
for attempt in 1 2 3; do
  if go test -tags storm -count=1 -run TestGrowthStorm ./maint/daemon/; then storm_ok=1; break; fi
  echo "test.sh: growth storm attempt $attempt missed its limit" >&2
done
[ -n "$storm_ok" ] || { echo "test.sh: growth storm failed three times" >&2; exit 1; }
# End to end: build the .deb and the .rpm, install them (dpkg, Debian's rpm)
# in booted Debian 12 and 13 containers with systemd 252 and 257 as PID 1,
# and check units, journal, timer, tmpfiles and packaging; and the arm64
# .deb with dpkg in an arm64 Debian 12 root under qemu, chrooted (systemd
# boots there, but the units' sandbox cannot be set up under emulation).
# The timeout leaves room for debootstrap of the five root file systems
# (cached a week; the arm64 one takes about 3 minutes under emulation).
GOMAINT_E2E_SUITES=${GOMAINT_E2E_SUITES:-bookworm trixie} go test -tags e2e -count=1 -timeout 30m ./packaging/e2e/
go run ./cmd/gomaint-bench -quick
go run ./cmd/gomaint-bench -clean -quick
go run ./cmd/gomaint-bench -daemon -quick
go run ./cmd/gomaint-bench -verify -quick
go run ./cmd/gomaint-bench -run -quick
