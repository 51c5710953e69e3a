package scan

import (
	"errors"
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// NearestFS describes the file system of path or, when path does not exist
// yet, of its nearest existing ancestor: where go will create it. It only
// reads (statx, statfs), so the ancestor's symbolic links are followed to
// the directory go would really create the cache in. dir is the directory
// that was described.
func NearestFS(path string) (f FS, dir string, err error) {
	for dir = filepath.Clean(path); ; dir = filepath.Dir(dir) {
		real, err := filepath.EvalSymlinks(dir)
		if errors.Is(err, fs.ErrNotExist) && dir != filepath.Dir(dir) {
			continue
		}
		if err != nil {
			return FS{}, dir, err
		}
		fd, root, err := OpenRoot(real)
		if err != nil {
			return FS{}, real, err
		}
		defer unix.Close(fd)
		return DescribeFS(root), real, nil
	}
}
