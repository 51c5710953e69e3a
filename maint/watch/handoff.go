package watch

import (
	"os"
)

// Handoff frees inotify instances without waiting for the kernel. When
// the last reference to an instance is dropped, its watches are freed only
// after an SRCU grace period, and the task that dropped it waits for that
// (6 to 20 ms measured on a 2-core VM), whether it closes the instance or
// exits holding it. A `gomaint run` that ends with that wait makes its
// caller wait too; so the last references go to a child, true(1), which
// drops them as it exits, unwaited for: the process that adopts it reaps
// it. Where no child can start, Close closes the instances itself.
type Handoff struct {
	files []*os.File
}

// trueCmds are where true(1) may be: it needs no library, and has nothing
// to do but exit.
var trueCmds = []string{"/bin/true", "/usr/bin/true"}

// Add hands over the inotify instance of the build watch w, whose Run
// has returned (after Stop or Drain). w is closed when Close returns.
func (h *Handoff) Add(w *Build) { h.files = append(h.files, w.file) }

// AddModules hands over the inotify instance of m, stopped.
func (h *Handoff) AddModules(m *Modules) { h.files = append(h.files, m.file) }

// Close starts the child with the instances and closes this process's
// references to them.
func (h *Handoff) Close() {
	var open []*os.File
	for _, f := range h.files {
		if f.Fd() != ^uintptr(0) { // not closed already (a failed Drain closes it)
			open = append(open, f)
		}
	}
	if len(open) > 0 {
		// Standard streams closed: the child holds no pipe a caller reads to
		// its end, and no terminal.
		files := append([]*os.File{nil, nil, nil}, open...)
		for _, path := range trueCmds {
			p, err := os.StartProcess(path, []string{"true"}, &os.ProcAttr{Files: files})
			if err == nil {
				p.Release()
				break
			}
		}
	}
	for _, f := range h.files {
		f.Close()
	}
	h.files = nil
}
