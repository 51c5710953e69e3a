package goroot

import (
	"github.com/gomaint/gomaint/maint/config"
	"github.com/gomaint/gomaint/maint/discover"
)

// Configured is the request every front door checks (an audit, the daemon
// before READY, `check goroot`): path and expect (a command line's or an
// audit's override, "" for none) over the configuration's path and
// expect_version, then $GOROOT of environ, then `go env GOROOT`. goEnv is
// asked only when neither names a path: running go costs a fork and an
// exec, and `check goroot` runs before other people's services start.
func Configured(g config.GOROOT, path, expect string, environ []string, goEnv func() discover.Env) Request {
	req := Request{Path: g.Path, ExpectVersion: g.ExpectVersion, EnvGOROOT: discover.EnvFrom(environ)("GOROOT")}
	if path != "" {
		req.Path = path
	}
	if expect != "" {
		req.ExpectVersion = expect
	}
	if req.Path == "" && req.EnvGOROOT == "" {
		if env := goEnv(); env.Source == "go env" {
			req.GoEnvGOROOT = env.GOROOT
		}
	}
	return req
}
