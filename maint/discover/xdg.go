package discover

import "path/filepath"

// StateHome is the XDG state directory of the user of getenv: an absolute
// $XDG_STATE_HOME, else $HOME/.local/state (a relative XDG_STATE_HOME is
// ignored, as the XDG spec says); "" without HOME. gomaint keeps its saved
// status there, and its locks when there is no XDG_RUNTIME_DIR.
func StateHome(getenv Getenv) string {
	if d := getenv("XDG_STATE_HOME"); filepath.IsAbs(d) {
		return d
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "state")
	}
	return ""
}
