package verify

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/testenv"
)

// TestVerifyLeavesAtimes: module versions are aged by the atime of their
// files, so a verification, which reads every one, must not refresh them:
// else a weekly full run makes every version look used that week and no
// trim ever removes one.
func TestVerifyLeavesAtimes(t *testing.T) {
	cache, _, _ := testenv.ModCache(t)
	old := time.Now().Add(-72 * time.Hour)
	atimes := func() map[string]int64 {
		m := map[string]int64{}
		filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				var st unix.Stat_t
				if unix.Lstat(p, &st) == nil {
					m[p] = st.Atim.Sec
				}
			}
			return nil
		})
		return m
	}
	age := func() {
		ts := []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), {Nsec: unix.UTIME_OMIT}}
		for p := range atimes() {
			if err := unix.UtimesNanoAt(unix.AT_FDCWD, p, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
				t.Fatal(err)
			}
		}
	}
	// The check means something only where reads do update atimes.
	age()
	probe := ""
	for p := range atimes() {
		probe = p
		break
	}
	os.ReadFile(probe)
	testenv.Need(t, atimes()[probe] > old.Unix(), "a file system where reads update atimes (not noatime)")
	age()

	before := atimes()
	if _, fs := check(t, cache, Options{Full: true}); len(fs) != 0 {
		t.Fatalf("findings on a clean cache: %+v", fs)
	}
	after := atimes()
	changed := 0
	for p, a := range before {
		if after[p] != a {
			changed++
			if changed <= 3 {
				t.Errorf("%s: atime moved from %s to %s by a verification", p, time.Unix(a, 0), time.Unix(after[p], 0))
			}
		}
	}
	if changed > 0 {
		t.Errorf("%d of %d files look used after a verification", changed, len(before))
	}
}
