#!/usr/bin/env bash
# Runs rpmlint on gomaint's .rpm files safely, with the filters of
# packaging/gomaint.rpmlintrc:  packaging/rpmlint.sh dist/*.rpm
#
# rpmlint unpacks a package with `rpm2cpio | cpio -id` in a temporary
# directory. nfpm (rpmpack) stores absolute names (/usr/bin/gomaint, not
# ./usr/bin/gomaint), and GNU cpio restores absolute names where they say:
# run as root, a plain rpmlint writes the package's files over the real
# /usr and /etc, and then checks an empty directory. A cpio first on PATH
# that passes --no-absolute-filenames keeps the files in rpmlint's
# directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
real=$(command -v cpio) || { echo "rpmlint.sh: cpio is not installed" >&2; exit 2; }
printf '#!/bin/sh\nexec %s --no-absolute-filenames "$@"\n' "$real" >"$shim/cpio"
chmod 755 "$shim/cpio"
PATH=$shim:$PATH rpmlint -r "$here/gomaint.rpmlintrc" "$@"
