// Package alert tells operators about findings in the chat or pager they
// already use: webhooks (gomaint's JSON, Slack, Alertmanager) and commands.
//
// Producing and delivering are apart, so that delivery never blocks
// maintenance and the root daemon needs no network. Notify (called by the
// daemon and the CLI after every audit, verification or GOROOT check)
// decides which findings are news — a finding that appeared, one that was
// resolved, one still open after its route's repeat interval — with the
// state in alerts.json, and writes one file per alert and route into the
// spool directory. Flush (`gomaint alert flush`, run by the packaged
// gomaint-alert.service as an unprivileged user with network access, or by
// a user-scope daemon itself) delivers each file, retrying with backoff
// until the route's retry_for has passed, and removes it once delivered or
// dropped. Formats are in format.go, slack.go and alertmanager.go; one
// attempt (Send) in http.go and exec.go; the retry rules in retry.go; two
// senders on one spool never attempt one entry at once (claim.go); the
// sender's counts, for the metrics, in counts.go. docs/alerts.md is the
// user's reference. Delivery is at least once: every alert carries an ID, the same
// for each attempt and route, so a receiver can drop repeats.
package alert
