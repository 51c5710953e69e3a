package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Size is a byte count written as a plain integer (bytes) or a number with a
// unit: "500MB" (decimal) or "10GiB" (binary).
type Size int64

var sizeUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1e3, "kb": 1e3, "m": 1e6, "mb": 1e6, "g": 1e9, "gb": 1e9, "t": 1e12, "tb": 1e12,
	"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
}

// ParseSize parses "10GiB", "500MB", "1.5 GiB" or "1024".
func ParseSize(s string) (Size, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return (r < '0' || r > '9') && r != '.' && r != '-' && r != '+' })
	num, unit := t, ""
	if i >= 0 {
		num, unit = t[:i], strings.TrimSpace(t[i:])
	}
	mult, ok := sizeUnits[strings.ToLower(unit)]
	if !ok || num == "" {
		return 0, fmt.Errorf("%q is not a size: write bytes as an integer or a number with a unit (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. \"10GiB\"", s)
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is not a size: %q is not a number", s, num)
	}
	if f < 0 {
		return 0, fmt.Errorf("%q is negative: a size must be 0 or more", s)
	}
	// float64(math.MaxInt64) is 2^63: anything from there on would wrap to
	// a negative size, which means no limit.
	if v := f * mult; v < math.MaxInt64 {
		return Size(v), nil
	}
	return 0, fmt.Errorf("%q is too large: a size must be below 8EiB", s)
}

// UnmarshalTOML accepts an integer (bytes) or a string with a unit.
func (z *Size) UnmarshalTOML(v any) error {
	switch x := v.(type) {
	case int64:
		if x < 0 {
			return fmt.Errorf("%d is negative: a size must be 0 or more", x)
		}
		*z = Size(x)
		return nil
	case string:
		if strings.EqualFold(strings.TrimSpace(x), "auto") {
			*z = AutoSize
			return nil
		}
		s, err := ParseSize(x)
		*z = s
		return err
	}
	return fmt.Errorf("a size must be an integer (bytes) or a string such as \"10GiB\", not %T", v)
}

// MarshalText writes the size so that it reads back exactly (`config
// show`): in IEC units when they are exact, else in bytes.
func (z Size) MarshalText() ([]byte, error) {
	if z == AutoSize {
		return []byte("auto"), nil
	}
	s := FormatSize(int64(z))
	if back, err := ParseSize(s); err != nil || back != z {
		s = strconv.FormatInt(int64(z), 10)
	}
	return []byte(s), nil
}

// FormatSize prints bytes in IEC units with at most one decimal, exactly
// when the value is a whole number of a unit.
func FormatSize(b int64) string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%dB", b)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v, i := float64(b)/unit, 0
	for v >= unit && i < len(units)-1 {
		v /= unit
		i++
	}
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f%s", v, units[i])
	}
	return fmt.Sprintf("%.1f%s", v, units[i])
}

// Duration is a time span written as a Go duration ("36h", "90m") or with a
// day or week unit ("30d", "2w").
type Duration time.Duration

// ParseDuration parses Go durations plus whole or fractional days and weeks.
func ParseDuration(s string) (Duration, error) {
	t := strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a duration: write e.g. \"90m\", \"36h\", \"30d\" or \"2w\"", s)
	if t == "" {
		return 0, bad
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(t, suffix); ok {
			f, err := strconv.ParseFloat(n, 64)
			if (err != nil && !errors.Is(err, strconv.ErrRange)) || math.IsNaN(f) {
				return 0, bad
			}
			if f < 0 {
				return 0, fmt.Errorf("%q is negative: a duration must be 0 or more", s)
			}
			// As for sizes: from 2^63ns on, the conversion wraps negative.
			if v := f * float64(unit); v < math.MaxInt64 {
				return Duration(v), nil
			}
			return 0, fmt.Errorf("%q is too large: a duration must be below 106752d", s)
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, bad
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative: a duration must be 0 or more", s)
	}
	return Duration(d), nil
}

func (d *Duration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("a duration must be a string such as \"30d\" or \"36h\", not %T", v)
	}
	p, err := ParseDuration(s)
	*d = p
	return err
}

func (d Duration) MarshalText() ([]byte, error) { return []byte(FormatDuration(time.Duration(d))), nil }

// FormatDuration prints whole days as "30d", whole hours as "36h", whole
// minutes as "90m", anything else as Go does.
func FormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return "0s"
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}
