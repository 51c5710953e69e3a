package target

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/testenv"
)

// TestAutoLimitResolved: max_size "auto" becomes 10% of the file system
// the cache is on (or will be, when go has not created it yet), at most
// 10 GiB; an explicit 0 stays no limit (issue 12.3).
func TestAutoLimitResolved(t *testing.T) {
	testenv.Root(t)
	small := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=100m")
	os.Mkdir(filepath.Join(small, "made"), 0o755)
	big := testenv.Mount(t, testenv.Dir(t), "tmpfs", "tmpfs", "size=400g") // tmpfs allocates nothing up front
	cfg := config.Default(config.User)
	b := cfg.Targets[0]
	cfg.Targets = nil
	for name, path := range map[string]string{"exists": filepath.Join(small, "made"), "notyet": filepath.Join(small, "a", "b"), "big": big} {
		b.Name, b.Path = name, path
		cfg.Targets = append(cfg.Targets, b)
	}
	b.Name, b.Path, b.MaxSize = "zero", small, 0
	cfg.Targets = append(cfg.Targets, b)
	rs, _ := Resolve(context.Background(), cfg, os.Environ())
	want := map[string]int64{"exists": 10 << 20, "notyet": 10 << 20, "big": config.AutoCap, "zero": 0}
	for _, r := range rs {
		if int64(r.MaxSize) != want[r.Name] || r.AutoLimit != (r.Name != "zero") {
			t.Errorf("%s (%s): max_size %d (auto %v), want %d", r.Name, r.Path, r.MaxSize, r.AutoLimit, want[r.Name])
		}
		if r.Name != "zero" && r.EffectiveLowWater() != want[r.Name]/10*9 {
			t.Errorf("%s: low water %d", r.Name, r.EffectiveLowWater())
		}
	}
}
