package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"
	"time"
)

// promAPI asks a Prometheus server through its HTTP API, as Grafana does.
type promAPI struct{ base string }

// series is one series of a query's answer: its labels and its samples
// (one for an instant query).
type series struct {
	labels map[string]string
	values []float64
}

func (s series) last() float64 { return s.values[len(s.values)-1] }

func (s series) max() float64 {
	m := s.values[0]
	for _, v := range s.values {
		m = max(m, v)
	}
	return m
}

// get calls path with params and decodes the answer's data into v.
func (p promAPI) get(t *testing.T, path string, params url.Values, v any) error {
	t.Helper()
	resp, err := http.Get(p.base + path + "?" + params.Encode())
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var answer struct {
		Status, Error string
		Data          json.RawMessage
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("%s: %v: %s", path, err, body)
	}
	if answer.Status != "success" {
		return fmt.Errorf("%s %s: %s", path, params.Get("query"), answer.Error)
	}
	return json.Unmarshal(answer.Data, v)
}

// query evaluates expr at one time.
func (p promAPI) query(t *testing.T, expr string, at time.Time) ([]series, error) {
	t.Helper()
	var data struct {
		Result []struct {
			Metric map[string]string
			Value  [2]any
		}
	}
	params := url.Values{"query": {expr}, "time": {unix(at)}}
	if err := p.get(t, "/api/v1/query", params, &data); err != nil {
		return nil, err
	}
	var out []series
	for _, r := range data.Result {
		out = append(out, series{r.Metric, []float64{number(t, r.Value)}})
	}
	return out, nil
}

// queryRange evaluates expr over [from, to] every step, as a panel does,
// the last time at to.
func (p promAPI) queryRange(t *testing.T, expr string, from, to time.Time, step time.Duration) ([]series, error) {
	t.Helper()
	from = to.Add(-to.Sub(from).Truncate(step))
	var data struct {
		Result []struct {
			Metric map[string]string
			Values [][2]any
		}
	}
	params := url.Values{"query": {expr}, "start": {unix(from)}, "end": {unix(to)}, "step": {strconv.FormatFloat(step.Seconds(), 'f', -1, 64)}}
	if err := p.get(t, "/api/v1/query_range", params, &data); err != nil {
		return nil, err
	}
	var out []series
	for _, r := range data.Result {
		s := series{labels: r.Metric}
		for _, v := range r.Values {
			s.values = append(s.values, number(t, v))
		}
		out = append(out, s)
	}
	return out, nil
}

// labelValues is what Grafana's label_values(match, label) lists.
func (p promAPI) labelValues(t *testing.T, label, match string, from, to time.Time) ([]string, error) {
	t.Helper()
	var values []string
	params := url.Values{"match[]": {match}, "start": {unix(from)}, "end": {unix(to)}}
	err := p.get(t, "/api/v1/label/"+url.PathEscape(label)+"/values", params, &values)
	sort.Strings(values)
	return values, err
}

func unix(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1e3, 'f', -1, 64) }

// number is a sample's value: Prometheus sends [time, "value"].
func number(t *testing.T, sample [2]any) float64 {
	t.Helper()
	s, _ := sample[1].(string)
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("sample %v: %v", sample, err)
	}
	return v
}
