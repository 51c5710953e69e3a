package config

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// locator finds the line of a key in a TOML file. The TOML decoder reports
// lines only for syntax and type errors, but every rejected value deserves
// its line, so this reads the simple shape gomaint's files have: table
// headers and `key = value` lines. A key it cannot find gets line 0, and
// the error still names the key.
type locator struct {
	lines map[string]int // "goroot.path", "target.1.max_size", "target.1" -> line
	order []located      // every key line in file order, for undecoded keys
	used  map[int]bool
}

type located struct {
	path string // without array indexes: "target.max_size"
	line int
}

func locate(data []byte) *locator {
	l := &locator{lines: map[string]int{}, used: map[int]bool{}}
	table, plain := "", ""
	count := map[string]int{}
	for n, text := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(text)
		switch {
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(strings.SplitN(line, "]]", 2)[0], "[ "))
			table, plain = fmt.Sprintf("%s.%d", name, count[name]), name
			count[name]++
			l.lines[table] = n + 1
		case strings.HasPrefix(line, "["):
			name := strings.TrimSpace(strings.Trim(strings.SplitN(line, "]", 2)[0], "[ "))
			table, plain = name, name
			l.lines[table] = n + 1
		default:
			key, _, ok := strings.Cut(line, "=")
			key = strings.Trim(strings.TrimSpace(key), `"'`)
			if !ok || key == "" || strings.HasPrefix(key, "#") {
				continue
			}
			full, fullPlain := key, key
			if table != "" {
				full, fullPlain = table+"."+key, plain+"."+key
			}
			if _, dup := l.lines[full]; !dup {
				l.lines[full] = n + 1
			}
			l.order = append(l.order, located{fullPlain, n + 1})
		}
	}
	return l
}

// line returns the line of "target.1.max_size", falling back to its table.
func (l *locator) line(key string) int {
	for k := key; k != ""; {
		if n, ok := l.lines[k]; ok {
			return n
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return 0
}

// table returns the header line of the i-th [[name]] table.
func (l *locator) table(name string, i int) int { return l.lines[name+"."+strconv.Itoa(i)] }

// key returns the line of an undecoded key. The decoder lists undecoded
// keys in file order, so each takes the first matching line not yet taken.
func (l *locator) key(k toml.Key) int {
	want := k.String()
	for i, o := range l.order {
		if o.path == want && !l.used[i] {
			l.used[i] = true
			return o.line
		}
	}
	return 0
}
