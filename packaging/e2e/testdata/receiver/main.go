// Command receiver is the alert receiver of the end-to-end test: an HTTP
// server in the booted container that appends every request's body, one
// JSON line each, to a file, and answers 503 to the first -fail requests.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log"
	"net/http"
	"os"
	"sync"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:8099", "address")
	out := flag.String("out", "/root/e2e/received.jsonl", "file the bodies are appended to")
	fail := flag.Int("fail", 0, "answer 503 to this many requests first")
	flag.Parse()
	var mu sync.Mutex
	failed := 0
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if failed < *fail {
			failed++
			http.Error(w, "not yet", http.StatusServiceUnavailable)
			return
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, body); err != nil {
			http.Error(w, "not JSON", http.StatusBadRequest)
			return
		}
		f, err := os.OpenFile(*out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			_, err = f.Write(append(compact.Bytes(), '\n'))
			f.Close()
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	log.Fatal(http.ListenAndServe(*listen, nil))
}
