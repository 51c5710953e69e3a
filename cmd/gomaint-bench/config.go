// The one writer of the configuration files the modes give gomaint.

package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
)

// configFile is a gomaint configuration with only the fields the modes set.
type configFile struct {
	Daemon  *daemonTable `toml:"daemon,omitempty"`
	Targets []target     `toml:"target"`
}

type daemonTable struct {
	Watch      bool   `toml:"watch"`
	MetricsDir string `toml:"metrics_dir,omitempty"`
}

type target struct {
	Name    string `toml:"name"`
	Kind    string `toml:"kind"`
	Path    string `toml:"path"`
	MinAge  string `toml:"min_age,omitempty"` // "": gomaint's default
	MaxSize int64  `toml:"max_size,omitzero"` // bytes; 0: gomaint's default
	// LowWater is bytes; 0: gomaint's default.
	LowWater int64 `toml:"low_water,omitzero"`
}

// writeConfig writes cfg to file, after comment, one "# " line per line of
// it. The TOML encoder quotes the paths, whatever they hold.
func writeConfig(file, comment string, cfg configFile) error {
	var b bytes.Buffer
	for line := range strings.Lines(comment) {
		fmt.Fprintf(&b, "# %s\n", strings.TrimSuffix(line, "\n"))
	}
	if err := toml.NewEncoder(&b).Encode(cfg); err != nil {
		return fmt.Errorf("%s: %v", file, err)
	}
	return os.WriteFile(file, b.Bytes(), 0o644)
}
