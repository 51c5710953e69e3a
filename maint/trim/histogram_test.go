package trim

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestBuckets: every age falls in a bucket whose bounds hold it, and a
// bucket is at most 1/32 of its ages wide, from nanoseconds to centuries.
func TestBuckets(t *testing.T) {
	ages := []time.Duration{0, 1, 31, 32, 33, 63, 64, 65, time.Second, time.Hour, 1<<62 + 12345, noCutoff}
	for range 100000 {
		ages = append(ages, time.Duration(rand.Int64N(int64(400*24*time.Hour))))
	}
	for _, a := range ages {
		b := bucketOf(a)
		if b < 0 || b >= nBuckets {
			t.Fatalf("age %d: bucket %d out of range", a, b)
		}
		lo := lowerBound(b)
		if lo > a || (b+1 < nBuckets && lowerBound(b+1) <= a) {
			t.Fatalf("age %d in bucket %d [%d, %d)", a, b, lo, lowerBound(b+1))
		}
		if b+1 < nBuckets && a >= 32 && lowerBound(b+1)-lo > a/32+1 {
			t.Fatalf("bucket of age %d is %d wide", a, lowerBound(b+1)-lo)
		}
	}
}

// TestPlan: the cutoff takes the oldest first, exactly enough to reach the
// low-water mark, and never goes below min_age, even under a second.
func TestPlan(t *testing.T) {
	var h histogram
	for _, e := range []struct {
		age   time.Duration
		bytes int64
	}{{100 * time.Millisecond, 400}, {2 * time.Second, 300}, {time.Hour, 200}, {48 * time.Hour, 100}} {
		h.add(e.age, e.bytes)
	}
	p := Policy{MaxSize: 950, LowWater: 900, MinAge: 500 * time.Millisecond}
	if c, blocked, _ := plan(&h, 1000, 0, p); blocked != "" || c > 48*time.Hour || c <= time.Hour {
		t.Errorf("need 100: cutoff %s (%s); want the 48h bucket", c, blocked)
	}
	p.LowWater = 700
	if c, _, _ := plan(&h, 1000, 0, p); c > time.Hour || c <= 2*time.Second {
		t.Errorf("need 300: cutoff %s; want the 1h bucket", c)
	}
	p.LowWater = 100
	if c, blocked, _ := plan(&h, 1000, 0, p); c != 500*time.Millisecond || !strings.Contains(blocked, "min_age") {
		t.Errorf("need 900 with 400 under min_age: cutoff %s, blocked %q", c, blocked)
	}
	if c, _, _ := plan(&h, 800, 0, Policy{MaxSize: 900, MinAge: time.Hour, MaxAge: 24 * time.Hour}); c != 24*time.Hour {
		t.Errorf("within the size: cutoff %s, want max_age", c)
	}
	if c, blocked, _ := plan(&h, 800, 150, Policy{MinAge: 500 * time.Millisecond}); blocked != "" || c > time.Hour || c <= 2*time.Second {
		t.Errorf("150 below min_free, no max_size: cutoff %s (%s); want the 1h bucket", c, blocked)
	}
	if c, _, _ := plan(&h, 800, 0, Policy{MaxSize: 900, MinAge: time.Hour}); c != noCutoff {
		t.Errorf("nothing to do: cutoff %s", c)
	}
}
