package main

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
)

// Where the committed files are, from this directory.
var (
	dashboardFile = filepath.Join("..", "..", "packaging", "grafana", "gomaint.json")
	rulesFile     = filepath.Join("..", "..", "packaging", "prometheus", "gomaint.rules.yml")
)

// promQL is one expression of the dashboard or the rules: where it is
// (for messages), its text with Grafana's variables, and the labels its
// legend or annotations name.
type promQL struct {
	where, expr string
	uses        []string // labels the legend or the annotations print
	labelOf     string   // a label_values() variable: the label it lists
}

var promParser = parser.NewParser(parser.Options{})

// grafanaVar is a variable reference in a query: $name or ${name}.
var grafanaVar = regexp.MustCompile(`\$\{?(\w+)\}?`)

// builtinRanges are Grafana's own variables that stand for a duration.
var builtinRanges = []string{"__rate_interval", "__interval", "__range"}

// substitute replaces Grafana's variables as Grafana would: rng for the
// built-in durations, vars[name] (a regular expression) for the dashboard's.
func substitute(expr, rng string, vars map[string]string) (string, error) {
	var err error
	out := grafanaVar.ReplaceAllStringFunc(expr, func(m string) string {
		name := grafanaVar.FindStringSubmatch(m)[1]
		if slices.Contains(builtinRanges, name) {
			return rng
		}
		v, ok := vars[name]
		if !ok && err == nil {
			err = fmt.Errorf("$%s is no variable of the dashboard", name)
		}
		return v
	})
	return out, err
}

// labelValues is a Grafana variable query: label_values(selector, label).
var labelValues = regexp.MustCompile(`^label_values\((.+),\s*(\w+)\)$`)

// legendLabel is a label a legend or an annotation prints.
var legendLabel = regexp.MustCompile(`\{\{\s*(?:\$labels\.)?(\w+)\s*\}\}`)

// dashboardQueries reads every query of the committed dashboard: the
// panels' and the variables'.
func dashboardQueries(t *testing.T) (qs []promQL, vars []string) {
	t.Helper()
	var d struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr, LegendFormat, RefID string }
		}
		Templating struct {
			List []struct{ Name, Type, Query string }
		}
	}
	readDashboard(t, &d)
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
		if v.Type != "query" {
			continue
		}
		m := labelValues.FindStringSubmatch(v.Query)
		if m == nil {
			t.Fatalf("%s: variable %s: query %q is not label_values(selector, label)", dashboardFile, v.Name, v.Query)
		}
		qs = append(qs, promQL{where: "variable $" + v.Name, expr: m[1], labelOf: m[2]})
	}
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			var uses []string
			for _, m := range legendLabel.FindAllStringSubmatch(q.LegendFormat, -1) {
				uses = append(uses, m[1])
			}
			qs = append(qs, promQL{where: fmt.Sprintf("panel %q query %s", p.Title, q.RefID), expr: q.Expr, uses: uses})
		}
	}
	if len(qs) < 10 {
		t.Fatalf("%s: only %d queries", dashboardFile, len(qs))
	}
	return qs, vars
}

// readDashboard decodes the committed dashboard into v.
func readDashboard(t *testing.T, v any) {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
}

// ruleQueries reads every alert rule's expression with Prometheus's own
// rule file parser.
func ruleQueries(t *testing.T) []promQL {
	t.Helper()
	groups, errs := rulefmt.ParseFile(rulesFile, false, model.UTF8Validation, promParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		t.Fatalf("%v", errs)
	}
	var qs []promQL
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			var uses []string
			for _, a := range r.Annotations {
				for _, m := range legendLabel.FindAllStringSubmatch(a, -1) {
					uses = append(uses, m[1])
				}
			}
			qs = append(qs, promQL{where: "rule " + r.Alert + r.Record, expr: r.Expr, uses: uses})
		}
	}
	if len(qs) < 5 {
		t.Fatalf("%s: only %d rules", rulesFile, len(qs))
	}
	return qs
}

// TestQueriesMatchMetrics parses every query of the dashboard and every
// alert rule with Prometheus's parser and holds them to what maint/metrics
// writes: each metric is one it writes, each label a query filters,
// groups or matches on, and each label a legend or annotation prints, is
// one that metric has; rate() and increase() read counters, deriv() and
// predict_linear() gauges; a code or severity matched is one it writes.
// And every metric it writes has a panel.
func TestQueriesMatchMetrics(t *testing.T) {
	fams := emitted(t)
	dash, vars := dashboardQueries(t)
	all := map[string]string{}
	for _, v := range vars {
		all[v] = ".*"
	}
	shown := map[string]bool{}
	for _, q := range append(dash, ruleQueries(t)...) {
		text, err := substitute(q.expr, "5m", all)
		if err != nil {
			t.Errorf("%s: %v", q.where, err)
			continue
		}
		e, err := promParser.ParseExpr(text)
		if err != nil {
			t.Errorf("%s: %q: %v", q.where, text, err)
			continue
		}
		c := checker{fams: fams}
		have := c.labels(e)
		for _, l := range append(q.uses, q.labelOf) {
			if l != "" && !have[l] {
				t.Errorf("%s: prints or lists label %q, which %q never has (it has %s)", q.where, l, q.expr, setString(have))
			}
		}
		for _, err := range c.errs {
			t.Errorf("%s: %q: %v", q.where, q.expr, err)
		}
		if strings.HasPrefix(q.where, "panel") {
			for name := range c.metrics {
				shown[name] = true
			}
		}
	}
	for name := range fams {
		if !shown[name] {
			t.Errorf("maint/metrics writes %s, which no panel shows: add a panel in tools/dashboard/dashboard.go and run go generate there", name)
		}
	}
}

// checker walks one expression, noting what it finds wrong.
type checker struct {
	fams    map[string]family
	metrics map[string]bool // the metrics the expression reads
	errs    []error
}

func (c *checker) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// counterOnly and gaugeOnly are the functions that are wrong on the other type.
var (
	counterOnly = []string{"rate", "irate", "increase", "resets"}
	gaugeOnly   = []string{"deriv", "predict_linear", "delta", "idelta"}
)

// labels returns the label names the series of e can have, checking
// every selector, grouping and matching in e on the way.
func (c *checker) labels(e parser.Expr) map[string]bool {
	switch n := e.(type) {
	case *parser.VectorSelector:
		return c.selector(n)
	case *parser.MatrixSelector:
		return c.labels(n.VectorSelector)
	case *parser.SubqueryExpr:
		return c.labels(n.Expr)
	case *parser.ParenExpr:
		return c.labels(n.Expr)
	case *parser.UnaryExpr:
		return c.labels(n.Expr)
	case *parser.StepInvariantExpr:
		return c.labels(n.Expr)
	case *parser.NumberLiteral, *parser.StringLiteral:
		return map[string]bool{}
	case *parser.Call:
		out := map[string]bool{}
		for _, a := range n.Args {
			for l := range c.labels(a) {
				out[l] = true
			}
			c.typeFor(n.Func.Name, a)
		}
		return out
	case *parser.AggregateExpr:
		in := c.labels(n.Expr)
		if n.Param != nil {
			c.labels(n.Param)
		}
		for _, l := range n.Grouping {
			if !in[l] {
				c.errorf("%s groups by %q, which %s never has (it has %s)", n.Op, l, n.Expr, setString(in))
			}
		}
		if n.Without {
			out := map[string]bool{}
			for l := range in {
				if !slices.Contains(n.Grouping, l) {
					out[l] = true
				}
			}
			return out
		}
		out := map[string]bool{}
		for _, l := range n.Grouping {
			out[l] = true
		}
		return out
	case *parser.BinaryExpr:
		lhs, rhs := c.labels(n.LHS), c.labels(n.RHS)
		if m := n.VectorMatching; m != nil && m.On {
			for _, l := range m.MatchingLabels {
				if !lhs[l] || !rhs[l] {
					c.errorf("%s on(%s): %q is not on both sides", n.Op, strings.Join(m.MatchingLabels, ", "), l)
				}
			}
		}
		if m := n.VectorMatching; m != nil && len(m.Include) > 0 {
			one := rhs // group_left copies labels from the right
			if m.Card == parser.CardOneToMany {
				one = lhs
			}
			for _, l := range m.Include {
				if !one[l] {
					c.errorf("%s copies label %q, which its one side never has", n.Op, l)
				}
				lhs[l], rhs[l] = true, true
			}
		}
		if n.LHS.Type() != parser.ValueTypeVector {
			return rhs
		}
		if n.Op == parser.LOR {
			for l := range rhs {
				lhs[l] = true
			}
		}
		return lhs
	default:
		c.errorf("the check does not know %T: teach checker.labels", e)
		return map[string]bool{}
	}
}

// selector checks a metric's name, its matchers' labels and, for the
// closed sets code and severity, their values.
func (c *checker) selector(n *parser.VectorSelector) map[string]bool {
	f, ok := c.fams[n.Name]
	if !ok {
		c.errorf("reads %q, which maint/metrics never writes", n.Name)
		return map[string]bool{}
	}
	if c.metrics == nil {
		c.metrics = map[string]bool{}
	}
	c.metrics[n.Name] = true
	out := map[string]bool{}
	for l := range f.labels {
		out[l] = true
	}
	for _, m := range n.LabelMatchers {
		if m.Name == model.MetricNameLabel {
			continue
		}
		values, ok := f.labels[m.Name]
		if !ok {
			c.errorf("%s filters on %q, which %s never has (it has %s)", n, m.Name, n.Name, setString(out))
			continue
		}
		if m.Name != "code" && m.Name != "severity" {
			continue
		}
		for _, alt := range alternatives(m) {
			matched := false
			for v := range values {
				matched = matched || alt.Matches(v)
			}
			if !matched {
				c.errorf("%s: %s matches no %s that maint/metrics writes", n, alt, m.Name)
			}
		}
	}
	return out
}

// alternatives splits a=~"X|Y" into a=~"X" and a=~"Y", so that each
// code a rule names must exist, not just one of them.
func alternatives(m *labels.Matcher) []*labels.Matcher {
	if m.Type != labels.MatchRegexp || strings.ContainsAny(m.Value, "()") {
		return []*labels.Matcher{m}
	}
	var out []*labels.Matcher
	for _, v := range strings.Split(m.Value, "|") {
		out = append(out, labels.MustNewMatcher(m.Type, m.Name, v))
	}
	return out
}

// typeFor checks that fn reads arg's metric as the type fn is meant for.
func (c *checker) typeFor(fn string, arg parser.Expr) {
	ms, ok := arg.(*parser.MatrixSelector)
	if !ok {
		return
	}
	name := ms.VectorSelector.(*parser.VectorSelector).Name
	f, ok := c.fams[name]
	if !ok {
		return
	}
	switch typ := strings.ToLower(f.typ.String()); {
	case slices.Contains(counterOnly, fn) && typ != "counter":
		c.errorf("%s() of %s, a %s: it is for counters", fn, name, typ)
	case slices.Contains(gaugeOnly, fn) && typ != "gauge":
		c.errorf("%s() of %s, a %s: it is for gauges", fn, name, typ)
	}
}

func setString(s map[string]bool) string {
	var ks []string
	for k := range s {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return "{" + strings.Join(ks, ", ") + "}"
}
