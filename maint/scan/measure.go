package scan

import "golang.org/x/sys/unix"

// Measure counts a cache exactly: disk bytes of every entry, the root
// included, and regular files; and its file system's free space.
func Measure(path string) (bytes, files int64, fs FS, err error) {
	fd, root, err := OpenRoot(path)
	if err != nil {
		return 0, 0, FS{}, err
	}
	defer unix.Close(fd)
	t, err := Subtree(fd, ".", root.Mount)
	return t.DiskBytes, t.Files, DescribeFS(root), err
}
