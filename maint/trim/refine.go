package trim

import "time"

// A size trim that ends inside a bucket of the histogram would take the
// whole bucket: when every entry was used within the same hour, all of
// them. So the bucket is refined: one more pass over the cache counts the
// units whose age falls in it into windowBins finer bins, and again in the
// bin where the trim ends, until that bin holds one unit or one age, for
// at most maxRefinements passes. Memory stays one window per worker.
const (
	windowBins     = 1024
	maxRefinements = 3
)

// window is a linear histogram over the ages [lo, lo+windowBins*width).
type window struct {
	lo, width    time.Duration
	bytes, count [windowBins]int64
}

func newWindow(bd *boundary) *window {
	return &window{lo: bd.lo, width: max((bd.hi-bd.lo+windowBins-1)/windowBins, 1)}
}

// empty is a window over the same ages, for one worker.
func (w *window) empty() *window { return &window{lo: w.lo, width: w.width} }

func (w *window) add(age time.Duration, bytes int64) {
	if age < w.lo {
		return
	}
	i := (age - w.lo) / w.width
	if i >= windowBins {
		return
	}
	w.bytes[i] += bytes
	w.count[i]++
}

func (w *window) merge(o *window) {
	for i := range o.bytes {
		w.bytes[i] += o.bytes[i]
		w.count[i] += o.count[i]
	}
}

// cut returns the cutoff that takes need bytes from the window, oldest
// first, and the bin to refine next when that is still not exact.
func (w *window) cut(need int64) (time.Duration, *boundary) {
	var sum int64
	for i := windowBins - 1; i >= 0; i-- {
		sum += w.bytes[i]
		if sum < need {
			continue
		}
		lo := w.lo + time.Duration(i)*w.width
		if w.count[i] > 1 && sum > need && w.width > 1 {
			return lo, &boundary{lo: lo, hi: lo + w.width, need: need - (sum - w.bytes[i])}
		}
		return lo, nil
	}
	return w.lo, nil // less there than pass 1 saw: all of it goes
}

// refine narrows a size cutoff inside its boundary; pass walks the cache
// and returns the units of the window's ages counted into it.
func refine(cutoff time.Duration, bd *boundary, pass func(w *window) (*window, error)) (time.Duration, error) {
	for i := 0; bd != nil && i < maxRefinements; i++ {
		w, err := pass(newWindow(bd))
		if err != nil {
			return cutoff, err
		}
		cutoff, bd = w.cut(bd.need)
	}
	return cutoff, nil
}
