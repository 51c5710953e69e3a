// What the audit mode needs of the machine: gdu, and a page cache it may drop.

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const dropCaches = "/proc/sys/vm/drop_caches"

// coldBlocker says why the page cache cannot be dropped here, or "".
func coldBlocker() string {
	if os.Geteuid() != 0 {
		return "not running as root, and dropping the page cache needs root (run with sudo for cold runs)"
	}
	f, err := os.OpenFile(dropCaches, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Sprintf("cannot drop the page cache: %v", err)
	}
	f.Close()
	return ""
}

// ensureGdu finds gdu, installing it with apt-get when we are root.
func ensureGdu(ctx context.Context) (string, error) {
	if p, err := exec.LookPath("gdu"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("gdu is not on PATH; install it (Debian/Ubuntu: sudo apt-get install gdu) and run again")
	}
	fmt.Println("gdu is not on PATH: installing it with apt-get")
	if err := apt(ctx, "install", "-y", "gdu"); err != nil {
		// A fresh system may have no package lists yet.
		if err := apt(ctx, "update"); err != nil {
			return "", err
		}
		if err := apt(ctx, "install", "-y", "gdu"); err != nil {
			return "", err
		}
	}
	return exec.LookPath("gdu")
}

func apt(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, "apt-get", args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("apt-get %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}
