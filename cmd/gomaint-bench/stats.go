// Statistics over runs.

package main

import (
	"math"
	"slices"
	"time"
)

// median is the middle of xs, or the mean of the two middle values when
// there is an even number of them; 0 for none. Every median the modes
// print comes from here.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := len(xs)
	return (xs[(n-1)/2] + xs[n/2]) / 2
}

// medianCI is a distribution-free 95% confidence interval for the median
// of xs: its k-th smallest and k-th largest values, k the largest for
// which a Binomial(n, 1/2) falls below k with probability at most 2.5%.
// ok is false for fewer than 6 values, too few for one.
func medianCI(xs []float64) (lo, hi float64, ok bool) {
	n := len(xs)
	k, below, p := 0, 0.0, math.Pow(0.5, float64(n)) // p: P(B = k)
	for k < n && below+p <= 0.025 {
		below += p
		p = p * float64(n-k) / float64(k+1)
		k++
	}
	if k == 0 {
		return 0, 0, false
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	return xs[k-1], xs[n-k], true
}

// medianBy is the median of f over the runs, in seconds.
func medianBy(ss []sample, f func(sample) time.Duration) float64 {
	d := make([]float64, len(ss))
	for i, s := range ss {
		d[i] = f(s).Seconds()
	}
	return median(d)
}

// medianWall is the median wall time of the runs, in seconds.
func medianWall(ss []sample) float64 {
	return medianBy(ss, func(s sample) time.Duration { return s.wall })
}

// floor is the highest RSS floor of the runs, in MiB.
func floor(ss []sample) float64 {
	var m int64
	for _, s := range ss {
		m = max(m, s.floorKiB)
	}
	return float64(m) / 1024
}

// maxRSS in MiB.
func maxRSS(ss []sample) float64 {
	var m int64
	for _, s := range ss {
		m = max(m, s.rssKiB)
	}
	return float64(m) / 1024
}
