# Shared Go caches for the members of the gocache group (from gomaint).
#
# Opt in by linking this file into /etc/profile.d/. It only changes the
# environment of members of gocache, so it is safe for every login.
#
# GOFLAGS is left alone on purpose: without -modcacherw, extracted module
# sources stay read-only, so no member can change code that the others
# compile; gomaint (as root) removes old module versions instead of
# `go clean -modcache`. The setgid bit and the default ACLs of
# /var/cache/go/* keep every new entry writable by the group whatever a
# member's umask.
case " $(id -Gn 2>/dev/null) " in
*" gocache "*)
	export GOCACHE=/var/cache/go/build
	export GOMODCACHE=/var/cache/go/mod
	;;
esac
