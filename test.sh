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
command -v gdu >/dev/null || need_pkgs+=(gdu)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "test.sh: missing ${need_pkgs[*]}; run as root to install them, or: sudo apt-get install ${need_pkgs[*]}" >&2
    exit 1
  fi
  echo "test.sh: installing ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q "${need_pkgs[@]}" >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q "${need_pkgs[@]}" >/dev/null; }
fi
if [ "$(id -u)" -ne 0 ]; then
  msg="test.sh: not root: the tests that need root (mounts, chown, other users) cannot run"
  if [ "${CI:-}" = true ]; then echo "$msg" >&2; exit 1; fi
  echo "$msg; they will be skipped" >&2
fi

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "test.sh: gofmt would change: $unformatted" >&2; exit 1; fi
go vet ./...
go test -race -count=1 ./...
go run ./cmd/gomaint-bench -quick
go run ./cmd/gomaint-bench -clean -quick
