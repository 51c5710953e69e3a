package config

import (
	"cmp"
	"errors"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

// The TOML decoder stops at the first wrongly typed value, after it has
// walked a random part of its table (a Go map), so the keys it had not
// reached were left undecoded and reported as unknown, differently on each
// run. A decoder here therefore decodes one key at a time: every error is
// found, each key is judged on its own, and keys match exactly (TOML keys
// are case-sensitive; the library would also take "MAX_SIZE").
type decoder struct {
	file string
	md   toml.MetaData
	loc  *locator
	errs []*Error
}

// decodeFile lays data over c (defaults already in it). It returns every
// error of the file, in file order; c is only meaningful when there are none.
func decodeFile(c *Config, file string, data []byte, loc *locator) []*Error {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return []*Error{decodeError(file, err)} // a syntax error: nothing after it is known
	}
	d := &decoder{file: file, md: md, loc: loc}
	for _, key := range sortedKeys(top) {
		p := top[key]
		switch key {
		case "goroot":
			d.table(p, &c.GOROOT, "goroot", "goroot")
		case "daemon":
			d.table(p, &c.Daemon, "daemon", "daemon")
		case "target":
			var targets []toml.Primitive
			if err := md.PrimitiveDecode(p, &targets); err != nil {
				d.add("target", "target", "must be tables: write [[target]] above the keys of each target", nil)
				continue
			}
			if len(targets) > 0 {
				c.Targets = nil // else target = [] keeps the default targets
			}
			for i, tp := range targets {
				t := defaultTarget("", "", "")
				d.table(tp, &t, "target", "target."+strconv.Itoa(i))
				if t.Kind == Build && !d.has(tp, "max_size") {
					t.MaxSize = AutoSize // the default limit of every build cache
				}
				t.MinFree = t.MinFree.Or(t.Kind) // its default depends on the kind
				c.Targets = append(c.Targets, t)
			}
		case "alert":
			var alerts []toml.Primitive
			if err := md.PrimitiveDecode(p, &alerts); err != nil {
				d.add("alert", "alert", "must be tables: write [[alert]] above the keys of each alert route", nil)
				continue
			}
			for i, ap := range alerts {
				a := defaultAlert()
				d.table(ap, &a, "alert", "alert."+strconv.Itoa(i))
				c.Alerts = append(c.Alerts, a)
			}
		default:
			d.unknown(key, key)
		}
	}
	sortByLine(d.errs)
	return d.errs
}

// table decodes the keys of one table into the struct dst points to.
// name is the key as printed ("target"), at the key the locator finds it
// under ("target.1").
func (d *decoder) table(p toml.Primitive, dst any, name, at string) {
	// The library decodes a value that is not a table (target = [1]) into
	// a map as an empty one, without an error: look at the value first.
	var value any
	d.md.PrimitiveDecode(p, &value) // cannot fail: any takes every value
	var keys map[string]toml.Primitive
	if !isTable(value) || d.md.PrimitiveDecode(p, &keys) != nil {
		header := "[" + name + "]"
		if name == "target" || name == "alert" {
			header = "[[" + name + "]]"
		}
		d.add(name, at, "must be a table: write "+header+" above its keys", nil)
		return
	}
	v := reflect.ValueOf(dst).Elem()
	fields := map[string]reflect.Value{}
	for i := range v.NumField() {
		tag, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("toml"), ",")
		if tag != "" && tag != "-" {
			fields[tag] = v.Field(i)
		}
	}
	for _, key := range sortedKeys(keys) {
		f, ok := fields[key]
		if !ok {
			d.unknown(name+"."+key, at+"."+key)
			continue
		}
		if err := d.md.PrimitiveDecode(keys[key], f.Addr().Interface()); err != nil {
			d.add(name+"."+key, at+"."+key, "", err)
		}
	}
}

// has reports whether the table p sets key itself.
func (d *decoder) has(p toml.Primitive, key string) bool {
	var keys map[string]toml.Primitive
	if d.md.PrimitiveDecode(p, &keys) != nil {
		return false
	}
	_, ok := keys[key]
	return ok
}

func isTable(v any) bool {
	_, ok := v.(map[string]any)
	return ok
}

func (d *decoder) unknown(name, at string) {
	d.add(name, at, "unknown key; see `gomaint config show` for the keys gomaint reads", nil)
}

// add records an error of key name, located at at. The reason is given,
// or taken from the decoder's err.
func (d *decoder) add(name, at, reason string, err error) {
	e := &Error{File: d.file, Key: name, Reason: reason}
	if err != nil {
		de := decodeError(d.file, err)
		e.Reason, e.Line = de.Reason, de.Line
	}
	// The locator knows which table of an array a key is in; the decoder
	// only the line of the key's last occurrence in the file.
	if n := d.loc.exact(at); n > 0 || e.Line == 0 {
		e.Line = d.loc.line(at)
	}
	d.errs = append(d.errs, e)
}

func sortedKeys(m map[string]toml.Primitive) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys) // sortByLine restores file order; this makes ties stable
	return keys
}

// sortByLine puts errors in file order; errors without a line come first.
func sortByLine(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int { return cmp.Compare(a.Line, b.Line) })
}

// typeError is how the decoder words a value of the wrong type.
var typeError = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]*)"\): (.*)$`)
})

// decodeError turns an error of the TOML library into an *Error.
func decodeError(file string, err error) *Error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.Position.Line, Key: pe.LastKey, Reason: pe.Message}
	}
	if m := typeError().FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: file, Line: line, Key: m[2], Reason: m[3]}
	}
	return &Error{File: file, Reason: err.Error()}
}
