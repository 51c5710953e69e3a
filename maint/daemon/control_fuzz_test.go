package daemon

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzControlDecode: whatever a local user writes to the control socket
// (anyone may connect), decoding it as a request cannot panic, and a
// decoded request or response survives its own encoding unchanged, so
// the client sees what the daemon meant.
func FuzzControlDecode(f *testing.F) {
	f.Add([]byte(`{"command":"clean","target":"build"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var req Request
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&req); err == nil {
			again := roundTrip(t, req)
			if again != req {
				t.Errorf("request %+v came back as %+v", req, again)
			}
		}
		var resp Response
		if err := json.NewDecoder(bufio.NewReader(bytes.NewReader(data))).Decode(&resp); err == nil {
			first, err := json.Marshal(resp)
			if err != nil {
				t.Fatalf("a decoded response does not encode: %v", err)
			}
			second, err := json.Marshal(roundTrip(t, resp))
			if err != nil || !bytes.Equal(first, second) {
				t.Errorf("response changes in a round trip: %s then %s (%v)", first, second, err)
			}
		}
	})
}

func roundTrip[T any](t *testing.T, v T) T {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %+v: %v", v, err)
	}
	var out T
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return out
}
