package main

import (
	"fmt"
	"math"
	"slices"
)

// shape judges a query's answer.
type shape func([]series) error

// panelShapes is what each panel query must answer at the end of
// TestPipeline, by panel title and query.
var panelShapes = map[string]shape{
	`panel "Cache $target: size, max_size and free space" query A`: forTargets("build", "mod").and(lastAbove(0)),
	`panel "Cache $target: size, max_size and free space" query B`: forTargets("build").and(lastAbove(0)),
	`panel "Cache $target: size, max_size and free space" query C`: forTargets("build", "mod").and(lastAbove(0)),
	// Only the build cache grew; the module cache did not.
	`panel "Days until the file system is full" query A`:          forTargets("build").and(lastAbove(0)),
	`panel "Bytes freed by trims" query A`:                        forTargets("build", "mod").and(someAbove("build", 0)),
	`panel "Files and free inodes" query A`:                       forTargets("build", "mod").and(lastAbove(0)),
	`panel "Files and free inodes" query B`:                       forTargets("build", "mod").and(lastAbove(0)),
	`panel "Open findings by code and severity" query A`:          labelSeen("code", "OVER_LIMIT"),
	`panel "Watch state" query A`:                                 forTargets("build").and(lastEquals(1)),
	`panel "GOROOT state" query A`:                                count(1).and(lastEquals(1)),
	`panel "Time since the last audit" query A`:                   forTargets("build", "mod").and(lastAbove(-1)),
	`panel "Time since the last successful clean" query A`:        forTargets("build", "mod").and(lastAbove(-1)),
	`panel "Time since the last successful verification" query A`: forTargets("mod").and(lastAbove(-1)),
	`panel "Module versions verified, by result" query A`:         labelSeen("result", "ok").and(someAbove("", 0)),
	// The test counted one failed build before the daemon's writes, which
	// carried it over.
	`panel "Failed builds by reason" query A`: labelSeen("reason", "disk_full"),
	// Only the watched build cache is counted.
	`panel "Hit ratio" query A`:                 labelSeen("target", "build"),
	`panel "Misses per minute" query A`:         labelSeen("target", "build"),
	`panel "Bytes written and evicted" query A`: labelSeen("target", "build").and(someAbove("build", 0)),
	`panel "Bytes written and evicted" query B`: labelSeen("target", "build"),
	`panel "Oldest entry" query A`:              labelSeen("target", "build"),
	`panel "Counts complete" query A`:           labelSeen("target", "build"),
	// The pipeline's exec route delivered the findings' alerts.
	`panel "Alert deliveries" query A`:            labelSeen("outcome", "delivered").and(someAbove("", 0)),
	`panel "Alerts waiting for delivery" query A`: count(1).and(lastAbove(-1)),
}

// forTargets: exactly these targets have series, every value a number.
func forTargets(want ...string) shape {
	return func(ss []series) error {
		var got []string
		for _, s := range ss {
			got = append(got, s.labels["target"])
			for _, v := range s.values {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return fmt.Errorf("target %s has value %v", s.labels["target"], v)
				}
			}
		}
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, want) {
			return fmt.Errorf("series for targets %q, want %q", got, want)
		}
		return nil
	}
}

func count(n int) shape {
	return func(ss []series) error {
		if len(ss) != n {
			return fmt.Errorf("%d series, want %d", len(ss), n)
		}
		return nil
	}
}

func lastAbove(min float64) shape {
	return func(ss []series) error {
		for _, s := range ss {
			if s.last() <= min {
				return fmt.Errorf("%v ends at %v, want above %v", s.labels, s.last(), min)
			}
		}
		return nil
	}
}

func lastEquals(want float64) shape {
	return func(ss []series) error {
		for _, s := range ss {
			if s.last() != want {
				return fmt.Errorf("%v ends at %v, want %v", s.labels, s.last(), want)
			}
		}
		return nil
	}
}

// someAbove: target's series (any series, for "") rises above min.
func someAbove(target string, min float64) shape {
	return func(ss []series) error {
		for _, s := range ss {
			if (target == "" || s.labels["target"] == target) && s.max() > min {
				return nil
			}
		}
		return fmt.Errorf("no series of target %q above %v", target, min)
	}
}

func labelSeen(label, value string) shape {
	return func(ss []series) error {
		for _, s := range ss {
			if s.labels[label] == value {
				return nil
			}
		}
		return fmt.Errorf("no series with %s=%q", label, value)
	}
}

func (a shape) and(b shape) shape {
	return func(ss []series) error {
		if err := a(ss); err != nil {
			return err
		}
		return b(ss)
	}
}
