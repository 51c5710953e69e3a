package main

import (
	"encoding/json"
	"io"
	"reflect"
)

// writeJSON encodes v as one JSON document (indented when indent is set)
// with every nil slice reachable from v made empty first, so that no list
// in any --json output is null: readers get [] and need no special case.
func writeJSON(w io.Writer, v any, indent bool) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer {
		p := reflect.New(rv.Type()) // a copy that can be changed
		p.Elem().Set(rv)
		rv = p
	}
	emptyLists(rv)
	enc := json.NewEncoder(w)
	if indent {
		enc.SetIndent("", "  ")
	}
	return enc.Encode(rv.Interface())
}

// emptyLists replaces nil slices by empty ones in v and everything it
// points to, through exported struct fields, pointers and slices.
func emptyLists(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			emptyLists(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Field(i); f.CanSet() {
				emptyLists(f)
			}
		}
	case reflect.Slice:
		if v.IsNil() {
			if v.CanSet() {
				v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			}
			return
		}
		for i := 0; i < v.Len(); i++ {
			emptyLists(v.Index(i))
		}
	}
}
