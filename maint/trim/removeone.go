package trim

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
	"github.com/gomaint/gomaint/maint/scan"
)

// RemoveVersion removes the one module version rel names, as on disk
// ("github.com/!burnt!sushi/toml@v1.6.0"), by go's protocol, as a clean
// removes it (removeVersion): its extracted tree, .zip and .ziphash, under
// its .lock, with .partial written first; its .info and .mod stay, as go
// keeps them. It is for `gomaint fix`, which removes a version for what
// it holds, not for its age. The Result counts it removed, skipped (go
// holds its lock) or failed; a dry run only tests the lock.
func RemoveVersion(root *safefs.Root, rel string, opt Options) (*Result, error) {
	sroot, err := scan.RootOf(root.FD)
	if err != nil {
		return nil, err
	}
	c := &modCounter{root: root, mount: sroot.Mount}
	v, err := c.named(rel)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	res := &Result{DryRun: opt.DryRun}
	removeVersion(root, -1, v, "module", &opt, res, &sync.Map{})
	return res, nil
}

// named measures the version rel names, extracted or downloaded only.
func (c *modCounter) named(rel string) (version, error) {
	v := version{name: rel}
	if i := strings.LastIndexByte(rel, '/'); i >= 0 { // a version holds no '/'
		v.dir, v.name = rel[:i], rel[i+1:]
	}
	if strings.LastIndexByte(v.name, '@') <= 0 {
		return v, errors.New("not a module version (no @version)")
	}
	fd, err := c.root.OpenDir(v.dir)
	if err == nil {
		defer unix.Close(fd)
		if st, err := c.root.Stat(fd, v.name); err == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if m, ok := c.measureTree(fd, v.dir, v.name, st.Ctime.Sec); ok {
				return m, nil
			}
			v.hasTree = true // unmeasured, removed all the same
		}
	}
	if !v.hasTree && treeExists(c.root, v) {
		return v, errors.New("its directory cannot be read")
	}
	dl, ver := v.downloadDir()
	if dlfd, err := c.root.OpenDir(dl); err == nil {
		c.addDownloads(dlfd, ver, &v)
		unix.Close(dlfd)
	}
	return v, nil
}
