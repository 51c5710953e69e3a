package main

import (
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/statetimeline"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// schemaVersion is Grafana 10.0's: the oldest Grafana the dashboard is
// for, which newer ones migrate from. Everything used here exists there.
const schemaVersion = 38

// The variables every query filters on. $target is a regular expression
// (several targets, or All as ".*"), so machine-wide series, which have no
// target label, are kept with `target=~"$target|"` where they matter.
const (
	byInstance = `instance=~"$instance"`
	byTarget   = `instance=~"$instance",target=~"$target"`
)

// sel is a selector of metric for the chosen instances and targets.
func sel(metric string) string { return metric + "{" + byTarget + "}" }

// section is a row of the dashboard and its panels, top to bottom.
type section struct {
	title  string
	panels []cog.Builder[dashboard.Panel]
}

// sections is the dashboard's content. A panel is a few lines here: one
// of the helpers below with its title, the question it answers (shown as
// its description and listed in the README) and its queries.
func sections() []section {
	return []section{
		{"Space", []cog.Builder[dashboard.Panel]{
			timeseriesPanel("Cache $target: size, max_size and free space",
				"How big is the cache, how close to its max_size, and how much room is left on its file system?", "bytes",
				query{sel("gomaint_cache_disk_bytes"), "{{instance}} size on disk"},
				query{sel("gomaint_cache_limit_bytes"), "{{instance}} max_size"},
				query{sel("gomaint_fs_free_bytes"), "{{instance}} free on the file system"}).
				Repeat("target").RepeatDirection(dashboard.PanelRepeatDirectionH).MaxPerRow(2).
				OverrideByRegexp(".*max_size", dashed()).
				Span(24).Height(8),
			// predict_linear over 6h: the slope of the last hours' growth
			// (what was added minus what trims removed), a day ahead.
			statPanel("Days until the file system is full",
				"At the growth of the last 6 hours, in how many days does the cache fill its file system?", "d",
				query{sel("gomaint_fs_free_bytes") + " / ((predict_linear(" + sel("gomaint_cache_disk_bytes") + "[6h], 86400) - " + sel("gomaint_cache_disk_bytes") + ") > 0)",
					"{{instance}} {{target}}"}).
				NoValue("not growing").
				Thresholds(steps("red", step{7, "orange"}, step{30, "green"})).
				Span(8).Height(6),
			timeseriesPanel("Bytes freed by trims",
				"How much did cleans and the daemon's limit trims remove, and when?", "bytes",
				query{"sum by (instance, target) (increase(" + sel("gomaint_trim_freed_bytes_total") + "[$__rate_interval]))", "{{instance}} {{target}}"}).
				DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
				Span(8).Height(6),
			timeseriesPanel("Files and free inodes",
				"Is the cache using up its file system's inodes before its bytes?", "short",
				query{sel("gomaint_cache_files"), "{{instance}} {{target}} files"},
				query{sel("gomaint_fs_free_inodes"), "{{instance}} {{target}} free inodes"}).
				Span(8).Height(6),
		}},
		{"Effectiveness", []cog.Builder[dashboard.Panel]{
			timeseriesPanel("Hit ratio",
				"Of the lookups builds made in the build cache, how many found what they needed?", "percentunit",
				query{"sum by (instance, target) (increase(" + sel("gomaint_cache_hits_total") + "[$__rate_interval])) / (sum by (instance, target) (increase(" + sel("gomaint_cache_hits_total") + "[$__rate_interval])) + sum by (instance, target) (increase(" + sel("gomaint_cache_misses_total") + "[$__rate_interval])))",
					"{{instance}} {{target}}"}).
				Span(8).Height(6),
			timeseriesPanel("Misses per minute",
				"How much are builds compiling from scratch?", "short",
				query{"sum by (instance, target) (rate(" + sel("gomaint_cache_misses_total") + "[$__rate_interval])) * 60", "{{instance}} {{target}}"}).
				Span(8).Height(6),
			timeseriesPanel("Bytes written and evicted",
				"How fast do builds add to the cache, and how much do trims take away again?", "bytes",
				query{"sum by (instance, target) (increase(" + sel("gomaint_cache_written_bytes_total") + "[$__rate_interval]))", "{{instance}} {{target}} written"},
				query{"sum by (instance, target) (increase(" + sel("gomaint_cache_evicted_bytes_total") + "[$__rate_interval]))", "{{instance}} {{target}} evicted"}).
				Span(8).Height(6),
			statPanel("Oldest entry",
				"How far back does the build cache reach: the age of its least recently used entry at the last audit?", "s",
				query{sel("gomaint_cache_oldest_entry_age_seconds"), "{{instance}} {{target}}"}).
				Span(12).Height(6),
			timelinePanel("Counts complete",
				"Can the hit and miss counts be trusted, or did a degraded watch or a queue overflow miss events?",
				query{"1 - " + sel("gomaint_cache_counts_partial"), "{{instance}} {{target}}"}).
				Mappings(states("complete", "partial: events missed")).
				Span(12).Height(6),
		}},
		{"Health", []cog.Builder[dashboard.Panel]{
			timelinePanel("Open findings by code and severity",
				"Which findings did the audits report, how grave, and since when?",
				query{`sum by (code, severity) (gomaint_findings{` + byInstance + `,target=~"$target|"}) > 0`, "{{code}} ({{severity}})"}).
				OverrideByRegexp(`.*\(error\)`, fixedColor("red")).
				OverrideByRegexp(`.*\(warning\)`, fixedColor("orange")).
				OverrideByRegexp(`.*\(info\)`, fixedColor("blue")).
				Span(24).Height(8),
			timelinePanel("Watch state",
				"Does the daemon watch each build cache with inotify, so its limit holds within seconds?",
				query{sel("gomaint_watch_up"), "{{instance}} {{target}}"}).
				Mappings(states("watching", "absent or degraded")).
				Span(12).Height(6),
			timelinePanel("GOROOT state",
				"Is GOROOT usable, so services that run `gomaint check goroot` start?",
				query{"gomaint_goroot_ok{" + byInstance + "}", "{{instance}}"}).
				Mappings(states("OK", "missing or invalid")).
				Span(12).Height(6),
			// The thresholds are the alert rules': GomaintAuditStale after
			// 2h, GomaintVerifyStale after 8 days; the clean timer is daily.
			sincePanel("Time since the last audit", "When did gomaint last audit each cache?",
				"gomaint_last_audit_timestamp_seconds", step{2 * 3600, "red"}),
			sincePanel("Time since the last successful clean", "When did a clean last leave each cache within its limits?",
				"gomaint_last_clean_success_timestamp_seconds", step{26 * 3600, "orange"}),
			sincePanel("Time since the last successful verification", "When was each module cache last verified without an error?",
				"gomaint_verify_last_success_timestamp_seconds", step{8 * 86400, "red"}),
			timeseriesPanel("Module versions verified, by result",
				"How many module versions did verification check, and did any fail?", "short",
				query{"sum by (result) (increase(" + sel("gomaint_verify_modules_total") + "[$__rate_interval]))", "{{result}}"}).
				DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
				OverrideByName("ok", fixedColor("green")).
				Span(24).Height(6),
			timeseriesPanel("Failed builds by reason",
				"Why did builds run by gomaint run fail: a cache not writable, a full disk, GOROOT, a module download or checksum, cache entries removed mid-build, or something else?", "short",
				query{"sum by (instance, reason) (increase(gomaint_build_failures_total{" + byInstance + "}[$__rate_interval]))", "{{instance}} {{reason}}"}).
				DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
				OverrideByRegexp(".* other", fixedColor("blue")).
				Span(24).Height(6),
		}},
		{"Alerts", []cog.Builder[dashboard.Panel]{
			timeseriesPanel("Alert deliveries",
				"Did the alerts reach their routes, or did they fail and get dropped?", "short",
				query{"sum by (instance, route, outcome) (increase(gomaint_alerts_sent_total{" + byInstance + "}[$__rate_interval]))", "{{instance}} {{route}} {{outcome}}"}).
				DrawStyle(common.GraphDrawStyleBars).FillOpacity(80).
				OverrideByRegexp(".* delivered", fixedColor("green")).
				OverrideByRegexp(".* dropped", fixedColor("red")).
				Span(16).Height(6),
			statPanel("Alerts waiting for delivery",
				"Are alerts piling up in the spool because no receiver takes them?", "short",
				query{"gomaint_alert_spool_files{" + byInstance + "}", "{{instance}}"}).
				Thresholds(steps("green", step{1, "orange"}, step{20, "red"})).
				Span(8).Height(6),
		}},
	}
}

// build returns the dashboard.
func build() (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder("gomaint: Go caches").
		Uid("gomaint").
		Description("Go build and module caches kept by gomaint: size against max_size, free space, trims, findings, watch, GOROOT and verification. Metrics from gomaint.prom through node_exporter's textfile collector.").
		Tags([]string{"gomaint", "go"}).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Refresh("1m").
		Time("now-24h", "now").
		Timezone(common.TimeZoneBrowser).
		// Grafana's built-in annotations and alerts, which every dashboard
		// Grafana saves has.
		Annotation(dashboard.NewAnnotationQueryBuilder().
			Name("Annotations & Alerts").
			Datasource(common.DataSourceRef{Type: cog.ToPtr("grafana"), Uid: cog.ToPtr("-- Grafana --")}).
			Type("dashboard").BuiltIn(1).
			Enable(true).Hide(true).
			IconColor("rgba(0, 211, 255, 1)")).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(labelVariable("instance", "Instance", "label_values(gomaint_goroot_ok, instance)")).
		WithVariable(labelVariable("target", "Target", `label_values(gomaint_cache_disk_bytes{`+byInstance+`}, target)`))
	for _, s := range sections() {
		b.WithRow(dashboard.NewRowBuilder(s.title))
		for _, p := range s.panels {
			b.WithPanel(p)
		}
	}
	d, err := b.Build()
	if err != nil {
		return d, err
	}
	d.SchemaVersion = schemaVersion
	// Ids in order: Grafana would number them on import, but links and
	// the tests name a panel by a stable id.
	for i, p := range d.Panels {
		id := uint32(i + 1)
		if p.RowPanel != nil {
			p.RowPanel.Id = id
		} else {
			p.Panel.Id = &id
		}
	}
	return d, nil
}

func datasource() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

// labelVariable offers every value of a label, several at once or All.
func labelVariable(name, label, q string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Datasource(datasource()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
			Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
		})
}

// query is one PromQL expression of a panel and its legend.
type query struct{ expr, legend string }

func targets(qs []query) []cog.Builder[variants.Dataquery] {
	var out []cog.Builder[variants.Dataquery]
	for i, q := range qs {
		out = append(out, prometheus.NewDataqueryBuilder().
			Datasource(datasource()).
			RefId(string(rune('A'+i))).
			Expr(q.expr).
			LegendFormat(q.legend))
	}
	return out
}

func timeseriesPanel(title, question, unit string, qs ...query) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().Title(title).Description(question).
		Datasource(datasource()).Targets(targets(qs)).
		Unit(unit).Min(0).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(true)).
		Tooltip(tooltip())
}

func tooltip() *common.VizTooltipOptionsBuilder {
	return common.NewVizTooltipOptionsBuilder().Mode(common.TooltipDisplayModeMulti).Sort(common.SortOrderDescending)
}

// statPanel shows each series' last value.
func statPanel(title, question, unit string, qs ...query) *stat.PanelBuilder {
	return stat.NewPanelBuilder().Title(title).Description(question).
		Datasource(datasource()).Targets(targets(qs)).
		Unit(unit).Decimals(1).
		ColorMode(common.BigValueColorModeBackground).
		GraphMode(common.BigValueGraphModeNone).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}))
}

// sincePanel shows how long ago a timestamp metric's time was, turning
// late's colour from late.from seconds on.
func sincePanel(title, question, metric string, late step) *stat.PanelBuilder {
	return statPanel(title, question, "s", query{"time() - " + sel(metric), "{{instance}} {{target}}"}).
		NoValue("never").
		Thresholds(steps("green", late)).
		Span(8).Height(6)
}

// timelinePanel shows each series' value over time as coloured states.
func timelinePanel(title, question string, qs ...query) *statetimeline.PanelBuilder {
	return statetimeline.NewPanelBuilder().Title(title).Description(question).
		Datasource(datasource()).Targets(targets(qs)).
		ShowValue(common.VisibilityModeAuto).
		MergeValues(true).
		Legend(common.NewVizLegendOptionsBuilder().DisplayMode(common.LegendDisplayModeList).Placement(common.LegendPlacementBottom).ShowLegend(false)).
		Tooltip(tooltip())
}

// states maps a 0/1 gauge to words and colours.
func states(up, down string) []dashboard.ValueMapping {
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"1": {Text: cog.ToPtr(up), Color: cog.ToPtr("green"), Index: cog.ToPtr[int32](0)},
			"0": {Text: cog.ToPtr(down), Color: cog.ToPtr("red"), Index: cog.ToPtr[int32](1)},
		},
	}}}
}

// step is a threshold: color from value from on.
type step struct {
	from  float64
	color string
}

// steps colours a value: base below the first step, then each step's.
func steps(base string, next ...step) *dashboard.ThresholdsConfigBuilder {
	s := []dashboard.Threshold{{Color: base}}
	for _, n := range next {
		s = append(s, dashboard.Threshold{Value: cog.ToPtr(n.from), Color: n.color})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(s)
}

func fixedColor(c string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": c}}}
}

func dashed() []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}}}
}
