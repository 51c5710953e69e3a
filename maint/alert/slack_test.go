package alert

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// checkSlackLimits fails on a message Slack would refuse: over a Block Kit
// limit, or mrkdwn with a raw < or > (a link or mention from a name).
func checkSlackLimits(t *testing.T, m *slackPayload) {
	t.Helper()
	limit := func(what, s string, most int) {
		t.Helper()
		if n := length(s); n > most || n == 0 {
			t.Errorf("%s: %d characters; Block Kit allows 1 to %d", what, n, most)
		}
		if !utf8.ValidString(s) {
			t.Errorf("%s: not UTF-8", what)
		}
		if strings.HasSuffix(s, "…") && brokenEntity.MatchString(strings.TrimSuffix(s, "…")) {
			t.Errorf("%s: cut inside an escape: %q", what, s[max(0, len(s)-20):])
		}
	}
	mrk := func(what string, x *slackText) {
		t.Helper()
		if x.Type == "mrkdwn" && strings.ContainsAny(x.Text, "<>") {
			t.Errorf("%s: mrkdwn with a raw < or >", what)
		}
	}
	limit("text", m.Text, slackFallbackMax)
	if len(m.Blocks) > slackBlocks {
		t.Errorf("%d blocks; at most %d", len(m.Blocks), slackBlocks)
	}
	for i, b := range m.Blocks {
		switch b.Type {
		case "header":
			if b.Text.Type != "plain_text" {
				t.Errorf("header of type %s", b.Text.Type)
			}
			limit("header", b.Text.Text, slackHeaderMax)
		case "section":
			if b.Text != nil {
				limit("section", b.Text.Text, slackTextMax)
				mrk("section", b.Text)
			}
			if len(b.Fields) > slackFields {
				t.Errorf("block %d: %d fields; at most %d", i, len(b.Fields), slackFields)
			}
			for _, f := range b.Fields {
				limit("field", f.Text, slackFieldMax)
				mrk("field", &f)
			}
		case "context":
			if len(b.Elements) > slackElements {
				t.Errorf("context: %d elements; at most %d", len(b.Elements), slackElements)
			}
			for _, e := range b.Elements {
				limit("context", e.Text, slackTextMax)
				mrk("context", &e)
			}
		default:
			t.Errorf("block type %q", b.Type)
		}
	}
}

var brokenEntity = regexp.MustCompile(`&[a-z]*$`)

// TestSlackLimits: a message, path, fix, ACL and host far over Block
// Kit's limits, full of characters that escape and of characters that
// take two UTF-16 units, still make a message within every limit, each
// cut marked with an ellipsis, the fix still a code block.
func TestSlackLimits(t *testing.T) {
	huge := func(unit string, n int) string { return strings.Repeat(unit, n) }
	end := time.Now()
	a := &Alert{Status: Resolved, Code: "ALERT_TEST_WARN", Severity: "warning", Target: huge("t", 400),
		Message: huge("<&>é😀", 300000), Fix: "rm -rf " + huge("```/x&y", 50000), Path: "/" + huge("dir😀&/", 100000),
		ConfiguredPath: huge("/c", 5000), UID: &Account{ID: 1, Name: huge("u", 5000)}, Host: huge("h&", 4000),
		MachineID: huge("m", 4000), Version: huge("v", 4000), ID: "x", Time: end, StartsAt: end, EndsAt: &end,
		Mode: &Snapshot{Mode: "drwxrwxrwx+", Owner: Account{ID: 0, Name: huge("o", 3000)}, ACL: huge("group:g:rwx,", 1000)}}
	m := slackMessage(a)
	checkSlackLimits(t, &m)
	if !strings.HasSuffix(m.Blocks[0].Text.Text, "…") || !strings.HasPrefix(m.Blocks[0].Text.Text, "RESOLVED: ") {
		t.Errorf("header %q: the status first, cut with an ellipsis", m.Blocks[0].Text.Text)
	}
	if s := m.Blocks[1].Text.Text; !strings.HasPrefix(s, "&lt;&amp;&gt;é😀") || !strings.HasSuffix(s, "…") {
		t.Errorf("message section starts %q, ends %q", s[:20], s[len(s)-10:])
	}
	var fix string
	for _, b := range m.Blocks {
		if b.Text != nil && strings.HasPrefix(b.Text.Text, "*Fix*") {
			fix = b.Text.Text
		}
	}
	if !strings.HasPrefix(fix, "*Fix*\n```rm -rf ˋˋˋ") || !strings.HasSuffix(fix, "…```") || strings.Count(fix, "```") != 2 {
		t.Errorf("fix block: a code block, its backticks shown as ˋ, cut inside it: %q…%q", fix[:30], fix[len(fix)-20:])
	}
	if _, err := json.Marshal(m); err != nil {
		t.Fatal(err)
	}
}

// TestSlackEscape: names from a cache cannot mention a channel or forge a
// link; clipping never leaves half an escape.
func TestSlackEscape(t *testing.T) {
	if got := escape("<!channel> <https://evil|ok> a&b"); got != "&lt;!channel&gt; &lt;https://evil|ok&gt; a&amp;b" {
		t.Errorf("escape: %q", got)
	}
	for max := 2; max < 12; max++ {
		got := clip(escape("ab&&&&&&&&"), max)
		if length(got) > max || brokenEntity.MatchString(strings.TrimSuffix(got, "…")) {
			t.Errorf("clip to %d: %q", max, got)
		}
	}
	if got := clip("😀😀😀", 4); got != "😀…" {
		t.Errorf("clip counts UTF-16 units: %q", got)
	}
}
