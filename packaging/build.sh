#!/usr/bin/env bash
# Builds gomaint's packages: static binaries for amd64 and arm64, then
# .deb and .rpm with nfpm (pinned as a Go tool in tools/go.mod, its own
# module, so the product's go.mod lists only what the binary uses).
#
#   packaging/build.sh                 all four packages
#   packaging/build.sh deb amd64       one package (FORMAT: deb|rpm|all, ARCH: amd64|arm64|all)
#
# Writes dist/gomaint_VERSION_ARCH.deb and dist/gomaint-VERSION-1.RPMARCH.rpm
# (RPMARCH x86_64 or aarch64) and prints the absolute path of each package
# it built on stdout, one per line; everything else goes to stderr.
#
# Environment:
#   GOMAINT_VERSION  the package version (default: from git, see below);
#                    digits first, then letters, digits, '.', '+' and '~'
#   GOMAINT_DIST     the output directory (default: dist/ in the repository)
set -euo pipefail

caller=$PWD
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

die() { echo "build.sh: $*" >&2; exit 2; }

format=${1:-all}
arch=${2:-all}
[ $# -le 2 ] || die "usage: packaging/build.sh [deb|rpm|all [amd64|arm64|all]]"
case $format in deb) formats=(deb) ;; rpm) formats=(rpm) ;; all) formats=(deb rpm) ;; *) die "unknown format $format: use deb, rpm or all" ;; esac
case $arch in amd64 | arm64) arches=("$arch") ;; all) arches=(amd64 arm64) ;; *) die "unknown architecture $arch: use amd64, arm64 or all" ;; esac

# The version from git: a tag vX.Y.Z gives X.Y.Z, commits after it
# X.Y.Z+N.gHASH, no tag 0.0.0~gitYYYYMMDD.HASH (~ sorts before any release),
# a dirty tree adds .dirty. No '-': rpm forbids it in a version, and in a
# deb it would start a Debian revision.
git_version() {
	local d date dirty=""
	git rev-parse --git-dir >/dev/null 2>&1 || return 1
	date=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d)
	git diff-index --quiet HEAD -- 2>/dev/null || dirty=.dirty
	# The same answer as `git describe --tags --always --dirty`, told apart:
	# without a tag, describe --always gives a bare hash.
	if d=$(git describe --tags 2>/dev/null); then
		d=${d#v}
		if [[ $d =~ ^(.*)-([0-9]+)-g([0-9a-f]+)$ ]]; then
			echo "${BASH_REMATCH[1]//-/\~}+${BASH_REMATCH[2]}.g${BASH_REMATCH[3]}$dirty"
		else
			echo "${d//-/\~}$dirty"
		fi
	else
		echo "0.0.0~git$date.$(git rev-parse --short HEAD)$dirty"
	fi
}

version=${GOMAINT_VERSION:-}
if [ -z "$version" ]; then
	version=$(git_version) || die "not a git checkout: set GOMAINT_VERSION"
fi
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
	die "version $version: must start with a digit and hold only letters, digits, '.', '+' and '~'"

dist=${GOMAINT_DIST:-$repo/dist}
case $dist in /*) ;; *) dist=$caller/$dist ;; esac
mkdir -p "$dist"
dist=$(cd "$dist" && pwd)

# Reproducible builds: file times in the packages from the last commit.
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

maintainer=$(sed -n 's/^maintainer: *//p' nfpm.yaml)
changelog_date=$(LC_ALL=C date -u -R -d "@$SOURCE_DATE_EPOCH")
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)

for a in "${arches[@]}"; do
	dir=$stage/$a
	mkdir -p "$dir"
	echo "build.sh: gomaint $version for linux/$a" >&2
	CGO_ENABLED=0 GOOS=linux GOARCH=$a go build -trimpath \
		-ldflags "-s -w -X main.version=$version" -o "$dir/gomaint" ./cmd/gomaint >&2
	gzip -9n <packaging/gomaint.8 >"$dir/gomaint.8.gz"
	# A native Debian package (no revision) carries changelog.gz.
	cat <<-CHANGELOG | gzip -9n >"$dir/changelog.gz"
	gomaint ($version) unstable; urgency=medium

	  * Built from commit $commit of https://github.com/gomaint/gomaint;
	    see its history for the changes.

	 -- $maintainer  $changelog_date
	CHANGELOG

	for f in "${formats[@]}"; do
		case $f/$a in
		deb/*) out=$dist/gomaint_${version}_$a.deb ;;
		rpm/amd64) out=$dist/gomaint-$version-1.x86_64.rpm ;;
		rpm/arm64) out=$dist/gomaint-$version-1.aarch64.rpm ;;
		esac
		rm -f "$out"
		# Not GOARCH: go tool would build nfpm itself for that architecture.
		GOMAINT_ARCH=$a GOMAINT_VERSION=$version GOMAINT_STAGE=$dir \
			go tool -modfile=tools/go.mod nfpm package --config nfpm.yaml --packager "$f" --target "$out" >&2
		echo "$out"
	done
done
