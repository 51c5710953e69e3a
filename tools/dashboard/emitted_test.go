package main

import (
	"bytes"
	"fmt"
	"reflect"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	_ "github.com/gomaint/gomaint/maint/daemon" // declares WATCH_DEGRADED
	"github.com/gomaint/gomaint/maint/metrics"
)

// family is what maint/metrics writes of one metric: its type, the
// label names its samples carry (with instance and job, which the scrape
// adds) and, per label, the values it takes.
type family struct {
	typ    dto.MetricType
	labels map[string]map[string]bool
}

// scrapeLabels are added to every series by Prometheus.
var scrapeLabels = []string{"instance", "job"}

// emitted parses what metrics.Format renders for a snapshot with every
// field set, so that a metric added to or renamed in maint/metrics shows
// here without a list to update.
func emitted(t *testing.T) map[string]family {
	t.Helper()
	var s metrics.Snapshot
	fill(reflect.ValueOf(&s).Elem())
	var text bytes.Buffer
	if err := metrics.Format(&text, s); err != nil {
		t.Fatalf("metrics.Format of a full snapshot: %v", err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := parser.TextToMetricFamilies(&text)
	if err != nil {
		t.Fatalf("parsing metrics.Format's output: %v\n%s", err, text.String())
	}
	out := map[string]family{}
	for name, mf := range mfs {
		f := family{typ: mf.GetType(), labels: map[string]map[string]bool{}}
		for _, l := range scrapeLabels {
			f.labels[l] = map[string]bool{}
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if f.labels[lp.GetName()] == nil {
					f.labels[lp.GetName()] = map[string]bool{}
				}
				f.labels[lp.GetName()][lp.GetValue()] = true
			}
		}
		out[name] = f
	}
	if len(out) < 10 {
		t.Fatalf("a full snapshot renders only %d families:\n%s", len(out), text.String())
	}
	return out
}

// fill sets every field of v, recursively, to a value that is not the
// zero value: non-empty strings, 1, true, a time, one element per slice
// and map. Format omits a sample whose field is zero, so a field added
// to metrics.Target or Snapshot gets its sample here by itself.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(1)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(1)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1700000000, 0)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i))
			}
		}
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.Map:
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k)
		fill(e)
		v.Set(reflect.MakeMap(v.Type()))
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	default:
		panic(fmt.Sprintf("fill: a field of kind %s in metrics.Snapshot: teach fill to set it", v.Kind()))
	}
}
