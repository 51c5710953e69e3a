package paths

import "path/filepath"

// ConfigHome, CacheHome and StateHome are the XDG base directories of the
// user whose environment getenv reads, by the XDG spec's rule: the
// variable when it is absolute (a relative one is ignored), else its
// fallback under $HOME; "" without HOME.
func ConfigHome(getenv func(string) string) string {
	return specHome(getenv, "XDG_CONFIG_HOME", ".config")
}

// CacheHome: see ConfigHome.
func CacheHome(getenv func(string) string) string {
	return specHome(getenv, "XDG_CACHE_HOME", ".cache")
}

// StateHome: see ConfigHome.
func StateHome(getenv func(string) string) string {
	return specHome(getenv, "XDG_STATE_HOME", filepath.Join(".local", "state"))
}

// RuntimeHome is $XDG_RUNTIME_DIR when it is absolute, else "": the spec
// gives it no fallback.
func RuntimeHome(getenv func(string) string) string {
	if d := getenv("XDG_RUNTIME_DIR"); filepath.IsAbs(d) {
		return d
	}
	return ""
}

// GoConfigHome and GoCacheHome are ConfigHome and CacheHome by go's rule
// (os.UserConfigDir, os.UserCacheDir), for finding what go finds (GOENV,
// GOCACHE): go rejects a relative variable instead of falling back, so
// that gives "".
func GoConfigHome(getenv func(string) string) string {
	return goHome(getenv, "XDG_CONFIG_HOME", ".config")
}

// GoCacheHome: see GoConfigHome.
func GoCacheHome(getenv func(string) string) string {
	return goHome(getenv, "XDG_CACHE_HOME", ".cache")
}

func specHome(getenv func(string) string, xdg, fallback string) string {
	if d := getenv(xdg); filepath.IsAbs(d) {
		return d
	}
	return underHome(getenv, fallback)
}

func goHome(getenv func(string) string, xdg, fallback string) string {
	if d := getenv(xdg); d != "" {
		if filepath.IsAbs(d) {
			return d
		}
		return ""
	}
	return underHome(getenv, fallback)
}

func underHome(getenv func(string) string, fallback string) string {
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, fallback)
	}
	return ""
}
