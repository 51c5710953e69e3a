package journal

import (
	"errors"

	"github.com/gomaint/gomaint/maint/config"
)

// ConfigFields locates a rejected configuration for its ConfigInvalid or
// ReloadFailed event: the file, line and key of the *config.Error in err,
// or no fields when err holds none.
func ConfigFields(err error) map[string]string {
	fields := map[string]string{}
	var ce *config.Error
	if errors.As(err, &ce) {
		fields["GOMAINT_CONFIG_FILE"] = ce.File
		fields["GOMAINT_CONFIG_LINE"] = Int(int64(ce.Line))
		fields["GOMAINT_CONFIG_KEY"] = ce.Key
	}
	return fields
}
