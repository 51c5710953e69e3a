package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Floor is a free-space floor (min_free): a size ("2GiB", or bytes as an
// integer) or a percentage of the file system ("5%"). "off" (or 0) is
// none. Left out, it is "5%" for a build cache and off for a module cache:
// a build cache refills itself, a module cache may be all there is of a
// dependency offline.
type Floor struct {
	Bytes   int64
	Percent float64
	unset   bool // not in the file: DefaultFloor of the target's kind applies
}

// DefaultFloor is a kind's min_free when the configuration has none.
func DefaultFloor(k Kind) Floor {
	if k == Build {
		return Floor{Percent: 5}
	}
	return Floor{}
}

// Or returns f, or the kind's default when f was not configured. A kind
// not known yet (a target being decoded) keeps f unset.
func (f Floor) Or(k Kind) Floor {
	if f.unset && k != "" {
		return DefaultFloor(k)
	}
	return f
}

// Off reports whether there is no floor.
func (f Floor) Off() bool { return f.Bytes == 0 && f.Percent == 0 }

// Of is the floor in bytes on a file system of total bytes.
func (f Floor) Of(total int64) int64 {
	if f.Percent > 0 {
		return int64(float64(total) * f.Percent / 100)
	}
	return f.Bytes
}

func (f Floor) String() string {
	switch {
	case f.Percent > 0:
		return strconv.FormatFloat(f.Percent, 'f', -1, 64) + "%"
	case f.Bytes > 0:
		return FormatSize(f.Bytes)
	}
	return "off"
}

// ParseFloor parses "5%", "2GiB", "1024" or "off".
func ParseFloor(s string) (Floor, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "off") {
		return Floor{}, nil
	}
	if num, ok := strings.CutSuffix(t, "%"); ok {
		p, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(p) || p < 0 || p >= 100 {
			return Floor{}, fmt.Errorf("%q is not a percentage from 0 to below 100: write e.g. \"5%%\", a size such as \"2GiB\", or \"off\"", s)
		}
		return Floor{Percent: p}, nil
	}
	z, err := ParseSize(t)
	if err != nil {
		return Floor{}, fmt.Errorf("%v; or write a percentage of the file system such as \"5%%\", or \"off\"", err)
	}
	return Floor{Bytes: int64(z)}, nil
}

// UnmarshalTOML accepts an integer (bytes) or a string: a size, a
// percentage or "off".
func (f *Floor) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return fmt.Errorf("%d is negative: min_free must be 0 or more", x)
		}
		*f = Floor{Bytes: x}
		return nil
	case string:
		p, err := ParseFloor(x)
		*f = p
		return err
	}
	return fmt.Errorf("min_free must be a size (\"2GiB\"), a percentage (\"5%%\") or \"off\", not %T", v)
}

func (f Floor) MarshalText() ([]byte, error) { return []byte(f.String()), nil }
