package scan

import (
	"errors"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// NearestFS describes the file system of path or, when path does not exist
// yet, of its nearest existing ancestor: where go will create it. dir is
// the directory that was described.
func NearestFS(path string) (f FS, dir string, err error) {
	dir = filepath.Clean(path)
	for {
		fd, root, err := OpenRoot(dir)
		if err == nil {
			defer unix.Close(fd)
			return DescribeFS(root), dir, nil
		}
		parent := filepath.Dir(dir)
		if !errors.Is(err, fs.ErrNotExist) || parent == dir {
			return FS{}, dir, err
		}
		dir = parent
	}
}
