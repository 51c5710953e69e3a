package alert

import (
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Block Kit's limits (api.slack.com/reference/block-kit): Slack refuses a
// message over any of them, so every text is clipped to fit, an ellipsis
// marking the cut; the JSON and exec routes carry the whole text.
const (
	slackHeaderMax   = 150  // a header's plain_text
	slackTextMax     = 3000 // a section's or context element's text
	slackFieldMax    = 2000 // one field of a section
	slackFields      = 10   // fields in a section
	slackBlocks      = 50   // blocks in a message
	slackElements    = 10   // elements of a context block
	slackFallbackMax = 3000 // the top-level text: notifications and old clients
)

type slackPayload struct {
	// Text is what notifications and clients without blocks show.
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []slackText `json:"elements,omitempty"`
}

type slackText struct {
	Type string `json:"type"` // "plain_text" or "mrkdwn"
	Text string `json:"text"`
}

// slackMessage is a as a Block Kit message: a header (status, severity,
// code, target), the message, the fields an operator acts on, the fix as
// a code block, and where and when it was seen.
func slackMessage(a *Alert) slackPayload {
	head := headline(a)
	msg := a.Message
	if msg == "" {
		msg = "(no message)"
	}
	blocks := []slackBlock{
		{Type: "header", Text: &slackText{"plain_text", clip(head, slackHeaderMax)}},
		{Type: "section", Text: mrkdwn(clip(escape(msg), slackTextMax))},
	}
	var fields []slackText
	field := func(name, value string, code bool) {
		if value == "" || len(fields) == slackFields {
			return
		}
		if code {
			fields = append(fields, *mrkdwn(wrap("*"+name+"*\n`", codeText(value), "`", slackFieldMax)))
		} else {
			fields = append(fields, *mrkdwn(wrap("*"+name+"*\n", escape(value), "", slackFieldMax)))
		}
	}
	switch a.Status {
	case Resolved:
		field("Status", "RESOLVED", false)
		if a.EndsAt != nil {
			field("Resolved at", stamp(*a.EndsAt), false)
		}
	case Test:
		field("Status", "test alert: this route delivers", false)
	default:
		field("Status", "firing", false)
	}
	field("Path", a.Path, true)
	field("Configured path", a.ConfiguredPath, true)
	if a.UID != nil {
		field("Affected user", a.UID.String(), false)
	}
	if a.Mode != nil {
		field("Mode", a.Mode.Line(), true)
		field("ACL", a.Mode.ACL, true)
	}
	if !a.StartsAt.IsZero() {
		field("Since", stamp(a.StartsAt), false)
	}
	if len(fields) > 0 {
		blocks = append(blocks, slackBlock{Type: "section", Fields: fields})
	}
	if a.Fix != "" {
		blocks = append(blocks, slackBlock{Type: "section", Text: mrkdwn(wrap("*Fix*\n```", codeText(a.Fix), "```", slackTextMax))})
	}
	var context []slackText
	for _, c := range [][2]string{{"host", a.Host}, {"machine id", a.MachineID}, {"gomaint", a.Version}, {"time", stamp(a.Time)}, {"alert id", a.ID}} {
		if c[1] != "" && len(context) < slackElements {
			context = append(context, *mrkdwn(wrap(c[0]+" ", escape(c[1]), "", slackTextMax)))
		}
	}
	if len(context) > 0 {
		blocks = append(blocks, slackBlock{Type: "context", Elements: context})
	}
	return slackPayload{Text: wrap("", escape(head+": "+msg), "", slackFallbackMax), Blocks: blocks[:min(len(blocks), slackBlocks)]}
}

func mrkdwn(s string) *slackText { return &slackText{"mrkdwn", s} }

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// escape makes text safe in mrkdwn: Slack reads <...> as links and
// mentions (<!channel>), and & as the start of those escapes, so names
// from a cache can neither page a channel nor forge a link.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// codeText is escaped text for a code span or block, which a backtick
// would end: it shows as ˋ (the JSON route carries the exact text).
func codeText(s string) string { return strings.ReplaceAll(escape(s), "`", "ˋ") }

// wrap is prefix+body+suffix clipped to max characters by cutting body.
func wrap(prefix, body, suffix string, max int) string {
	return prefix + clip(body, max-length(prefix)-length(suffix)) + suffix
}

// length counts characters as Slack does, in UTF-16 code units.
func length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// clip cuts s to at most max characters, the last an ellipsis, never in
// the middle of a character or of an escape (&amp;).
func clip(s string, max int) string {
	if length(s) <= max {
		return s
	}
	n, cut := 0, 0
	for cut < len(s) {
		r, w := utf8.DecodeRuneInString(s[cut:])
		if n+utf16.RuneLen(r) > max-1 {
			break
		}
		n, cut = n+utf16.RuneLen(r), cut+w
	}
	kept := s[:cut]
	if amp := strings.LastIndexByte(kept, '&'); amp >= 0 && !strings.Contains(kept[amp:], ";") {
		kept = kept[:amp]
	}
	return kept + "…"
}
