package config

import (
	"fmt"
	"strconv"
	"strings"
)

// locator finds the line of a key in a TOML file. The TOML decoder reports
// lines only for syntax and type errors, but every rejected value deserves
// its line, so this reads the simple shape gomaint's files have: table
// headers and `key = value` lines. A key it cannot find gets line 0, and
// the error still names the key.
type locator struct {
	lines map[string]int // "goroot.path", "target.1.max_size", "target.1" -> line
}

func locate(data []byte) *locator {
	l := &locator{lines: map[string]int{}}
	table := ""
	count := map[string]int{}
	for n, text := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(text)
		switch {
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(strings.SplitN(line, "]]", 2)[0], "[ "))
			table = fmt.Sprintf("%s.%d", name, count[name])
			count[name]++
			l.lines[table] = n + 1
		case strings.HasPrefix(line, "["):
			name := strings.TrimSpace(strings.Trim(strings.SplitN(line, "]", 2)[0], "[ "))
			table = name
			l.lines[table] = n + 1
		default:
			key, _, ok := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			if u, err := strconv.Unquote(key); err == nil && key[0] == '"' {
				key = u // a basic string key: TOML's escapes are Go's
			}
			key = strings.Trim(key, `"'`)
			if !ok || key == "" || strings.HasPrefix(key, "#") {
				continue
			}
			full := key
			if table != "" {
				full = table + "." + key
			}
			if _, dup := l.lines[full]; !dup {
				l.lines[full] = n + 1
			}
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

// exact returns the line of key itself, 0 when it has none.
func (l *locator) exact(key string) int { return l.lines[key] }
