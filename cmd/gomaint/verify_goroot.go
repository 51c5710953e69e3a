package main

import (
	"context"
	"io"
	"os"

	"github.com/gomaint/gomaint/maint/goroot"
	"github.com/gomaint/gomaint/maint/journal"
	"github.com/gomaint/gomaint/maint/safetext"
)

// baselineJSON is `check goroot --verify/--record --json`: the usability
// verdict, then what the baseline said.
type baselineJSON struct {
	GOROOT goroot.Result        `json:"goroot"`
	Verify *goroot.Verification `json:"verify,omitempty"`
	File   string               `json:"baseline_file,omitempty"`
	Error  string               `json:"error,omitempty"`
}

// checkBaseline verifies a usable GOROOT against its baseline (exit 0, or
// 1 with GOROOT_MODIFIED) or records one; no baseline to verify against,
// one for another version, or a refused record exit 78, as an unusable
// GOROOT does: running again changes nothing until someone acts.
func checkBaseline(ctx context.Context, sink journal.Sink, res goroot.Result, record, asJSON bool, stdout, stderr io.Writer) int {
	out := baselineJSON{GOROOT: res}
	var err error
	if record {
		out.File, err = goroot.Record(ctx, res.Path, goroot.BaselineDirs(os.Getenv)[0])
	} else {
		var v goroot.Verification
		if v, err = goroot.Verify(ctx, res.Path, goroot.BaselineDirs(os.Getenv)); err == nil {
			out.Verify = &v
			goroot.EmitModified(sink, v)
		}
	}
	if err != nil {
		out.Error = err.Error()
	}
	if asJSON {
		writeJSON(stdout, out, false)
	} else {
		printBaseline(out, stdout, stderr)
	}
	switch {
	case err != nil:
		return exitConfig
	case out.Verify != nil && !out.Verify.Code.IsZero():
		return exitFindings
	}
	return exitOK
}

func printBaseline(out baselineJSON, stdout, stderr io.Writer) {
	v := out.Verify
	switch {
	case out.Error != "":
		safetext.Fprintf(stderr, "gomaint: %s\n", out.Error)
	case out.File != "":
		safetext.Fprintf(stdout, "GOROOT %s (%s): baseline recorded in %s\n", out.GOROOT.Path, out.GOROOT.Version, out.File)
	case v.Code.IsZero():
		safetext.Fprintf(stdout, "GOROOT %s (%s) verified against its %s baseline: %d entries, none changed, added or removed\n",
			v.Path, out.GOROOT.Version, v.Baseline, v.Entries)
	default:
		safetext.Fprintf(stderr, "gomaint: %s: %s; fix: %s\n", v.Code, v.Reason, v.Fix)
		for _, c := range v.Changed {
			safetext.Fprintf(stderr, "  changed %s: %s\n", c.Path, c.What)
		}
		for _, a := range v.Added {
			safetext.Fprintf(stderr, "  added   %s\n", a)
		}
		for _, r := range v.Removed {
			safetext.Fprintf(stderr, "  removed %s\n", r)
		}
	}
}
