package daemon

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/gomaint/gomaint/maint/testenv"
)

// Two shared targets with a group each; gmt-sd-a is in alpha's group only.
const alphaGroup, betaGroup = "gmt-sd-ga", "gmt-sd-gb"

func twoGroupDaemon(t *testing.T) (*inProcess, *testenv.Account) {
	a := testenv.NewAccount(t, "gmt-sd-a", alphaGroup)
	testenv.NewAccount(t, "gmt-sd-b", betaGroup) // so that beta's group exists
	d := socketDaemon(t, sharedTarget(t, "alpha", alphaGroup), sharedTarget(t, "beta", betaGroup))
	d.await(t, "last audit", 20*time.Second)
	return d, a
}

// ask sends req as a and decodes the answer.
func ask(t *testing.T, a *testenv.Account, self, socket, req string) Response {
	t.Helper()
	out := client(t, a, self, socket, "ask", req)
	var resp Response
	if err := json.Unmarshal([]byte(out[0]), &resp); err != nil {
		t.Fatalf("%s as %s: %q: %v", req, a.Name, out, err)
	}
	return resp
}

// TestControlPerTarget: a member of one target's group sees and acts on
// that target only: status, audit and clean.
func TestControlPerTarget(t *testing.T) {
	d, a := twoGroupDaemon(t)
	self := testenv.Self(t)

	st := ask(t, a, self, d.socket, `{"command":"status"}`)
	if st.Status == nil {
		t.Fatalf("status: %+v", st)
	}
	var names []string
	for _, ts := range st.Status.Targets {
		names = append(names, ts.Name)
	}
	if !slices.Equal(names, []string{"alpha"}) {
		t.Errorf("status shows %v to a member of alpha's group; want [alpha]", names)
	}
	for _, req := range []string{`{"command":"clean","target":"beta"}`, `{"command":"audit","target":"beta"}`} {
		if resp := ask(t, a, self, d.socket, req); resp.Error == "" || len(resp.Outcomes)+len(resp.Findings) > 0 {
			t.Errorf("%s by a member of alpha's group only: %+v; want refused", req, resp)
		}
	}
	if resp := ask(t, a, self, d.socket, `{"command":"clean"}`); resp.Error != "" || len(resp.Outcomes) != 1 || resp.Outcomes[0].Target != "alpha" {
		t.Errorf("clean of every target by a member of alpha's group: %+v; want alpha's outcome only", resp)
	}
	resp := ask(t, a, self, d.socket, `{"command":"audit"}`)
	if resp.Error != "" {
		t.Errorf("audit of every target by a member of alpha's group: %v", resp.Error)
	}
	for _, f := range resp.Findings {
		if f.Cache != "alpha" && f.Cache != "" {
			t.Errorf("audit shows a finding of %s to a member of alpha's group: %+v", f.Cache, f)
		}
	}
}
