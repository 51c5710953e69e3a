package journal

import (
	"errors"
	"strings"

	"github.com/gomaint/gomaint/maint/config"
)

// ConfigRejected journals a configuration that could not be used: at start
// (ConfigInvalid, from every command and the daemon) or on a reload
// (ReloadFailed, the daemon keeps its previous one). The message holds
// every error on one line; the fields locate the first by file, line and
// key, so that `journalctl GOMAINT_CONFIG_KEY=...` finds it.
func ConfigRejected(s Sink, t Type, err error) {
	what := "configuration rejected"
	if t == ReloadFailed {
		what = "reload failed, keeping the previous configuration"
	}
	Emit(s, Event{Type: t, Priority: Err, Message: what + ": " + strings.ReplaceAll(err.Error(), "\n", "; "), Fields: configFields(err)})
}

// configFields are the file, line and key of the *config.Error in err, or
// no fields when err holds none.
func configFields(err error) map[string]string {
	fields := map[string]string{}
	var ce *config.Error
	if errors.As(err, &ce) {
		fields["GOMAINT_CONFIG_FILE"] = ce.File
		fields["GOMAINT_CONFIG_LINE"] = Int(int64(ce.Line))
		fields["GOMAINT_CONFIG_KEY"] = ce.Key
	}
	return fields
}
