package verify

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/sys/unix"

	"github.com/gomaint/gomaint/maint/safefs"
)

// errNoHash: the .ziphash holds something other than one h1: hash.
var errNoHash = errors.New("holds no h1: hash")

// readZiphash reads the hash go recorded for a version's zip. A missing
// file is unix.ENOENT (MODULE_UNVERIFIABLE); garbage is errNoHash.
func readZiphash(root *safefs.Root, dlfd int, v *version) (string, error) {
	fd, err := root.OpenFile(dlfd, v.escVersion+".ziphash", unix.O_RDONLY)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), v.escVersion+".ziphash")
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 256)) // one hash is 47 bytes
	if err != nil {
		return "", fmt.Errorf("read %s.ziphash: %w", v.escVersion, err)
	}
	h := string(bytes.TrimSpace(data))
	sum, ok := strings.CutPrefix(h, "h1:")
	if raw, err := base64.StdEncoding.DecodeString(sum); !ok || err != nil || len(raw) != sha256.Size {
		return "", fmt.Errorf("%s.ziphash %w", v.escVersion, errNoHash)
	}
	return h, nil
}

// hashTree is the h1: hash of an extracted version, as dirhash.HashDir
// computes it ("path@version/rel" names, sorted), but with every file
// opened fd-relative and never through a link. It stops between two
// files when ctx ends.
func hashTree(ctx context.Context, root *safefs.Root, v *version, t *tree) (string, error) {
	o := newOpener(ctx, root, v)
	defer o.close()
	return dirhash.Hash1(prefixed(o.prefix, t.files), o.open)
}

func prefixed(prefix string, rels []string) []string {
	names := make([]string, len(rels))
	for i, r := range rels {
		names[i] = prefix + r
	}
	return names
}

// openZip opens a version's .zip without following a link. A missing zip
// is unix.ENOENT.
func openZip(root *safefs.Root, dlfd int, v *version) (*zip.Reader, io.Closer, error) {
	fd, err := root.OpenFile(dlfd, v.escVersion+".zip", unix.O_RDONLY)
	if err != nil {
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), v.escVersion+".zip")
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	z, err := zip.NewReader(f, st.Size())
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return z, f, nil
}

// hashZip is dirhash.HashZip over an open zip; bytes is what it read. It
// stops between two files when ctx ends.
func hashZip(ctx context.Context, z *zip.Reader) (h string, bytes int64, err error) {
	names := make([]string, 0, len(z.File))
	byName := make(map[string]*zip.File, len(z.File))
	for _, f := range z.File {
		names = append(names, f.Name)
		byName[f.Name] = f
		bytes += int64(f.UncompressedSize64)
	}
	h, err = dirhash.Hash1(names, func(name string) (io.ReadCloser, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return byName[name].Open()
	})
	return h, bytes, err
}

// maxNamed bounds the files a finding names.
const maxNamed = 5

// differing names the first files (sorted, relative to the version's
// directory) whose contents differ between the tree and a zip already
// known to match the ziphash, or that only one of them has. It is called
// only once the hashes disagree, so a clean run never pays for it.
func differing(ctx context.Context, root *safefs.Root, v *version, t *tree, z *zip.Reader) ([]string, error) {
	o := newOpener(ctx, root, v)
	defer o.close()
	inTree := map[string][sha256.Size]byte{}
	for _, rel := range t.files {
		sum, err := digest(o.open(o.prefix + rel))
		if err != nil {
			return nil, err
		}
		inTree[rel] = sum
	}
	var diff []string
	for _, f := range z.File {
		rel := strings.TrimPrefix(f.Name, o.prefix)
		sum, err := digest(f.Open())
		if err != nil {
			return nil, fmt.Errorf("zip: %w", err)
		}
		if got, ok := inTree[rel]; !ok || got != sum {
			diff = append(diff, rel)
		}
		delete(inTree, rel)
	}
	for rel := range inTree {
		diff = append(diff, rel) // added to the tree
	}
	slices.Sort(diff)
	return diff[:min(len(diff), maxNamed)], nil
}

func digest(r io.ReadCloser, err error) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	if err != nil {
		return sum, err
	}
	defer r.Close()
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
