// Number formatting shared by the modes' reports.

package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

func rate(files int64, d time.Duration) float64 { return float64(files) / d.Seconds() }

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// commas writes n with thousands separators.
func commas(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			sb.WriteByte(',')
		}
		sb.WriteRune(r)
	}
	if neg {
		return "-" + sb.String()
	}
	return sb.String()
}

func secs(s float64) string { return fmt.Sprintf("%.3fs", s) }
