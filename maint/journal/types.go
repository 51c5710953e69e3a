package journal

// Type is one kind of event: its MESSAGE_ID (fixed forever, made once with
// `systemd-id128 new`), its GOMAINT_EVENT name and the catalog subject.
// units/gomaint.catalog holds an entry for every MESSAGE_ID here and for
// every finding code's; TestCatalogMatchesTypes (packaging) keeps them in
// step.
type Type struct {
	ID    string
	Event string
}

// Event types that are not findings (finding codes declare theirs with
// maint/finding).
var (
	Audit         = Type{"9c8fc256b97e4d1099a5fd6798b7f5d6", "audit"}
	GorootOK      = Type{"5800867cca0047398d82bcfd6a219ac4", "goroot"}
	ConfigInvalid = Type{"cefea96cff0b4d9eb91218e2f8ff0f0d", "config"}
	Trim          = Type{"166ecd6da517476d9e5d5b7ea9eac521", "trim"}
	Repair        = Type{"9257c7746651451b8511f59ca618987f", "repair"}
	// Verify: one module cache verified against its .ziphash files.
	Verify = Type{"855e725caec146b6b7fe914115c08420", "verify"}
	// VerifyIncomplete: a verification could not run, or not whole (no
	// GOROOT baseline, an unreadable one, state not saved).
	VerifyIncomplete = Type{"36420dbfc8864075a166a92c55207bd7", "verify"}

	// The daemon's life: ready (also after a reload), reload, stop, and a
	// full rescan of a watched cache.
	Ready        = Type{"0fb8582d9ed348e0aef7094e05673903", "ready"}
	Reloaded     = Type{"3d8702bbe59e43e6b3ed4a46516dcccb", "reload"}
	ReloadFailed = Type{"19372e3733a5461ca3d9a842695ec296", "reload"}
	Stopping     = Type{"c9bfb00d90104ba897e9929e05754c1e", "stop"}
	Rescan       = Type{"eaf73ce560b845e2be9f7237f6b1ef3a", "rescan"}
	// The control socket cannot accept connections (out of fds), and
	// accepts again.
	Control = Type{"2a7b460ca7494f5785f96b6e1b50a4f1", "control"}
	// Watch: a watched cache changed state (absent, watching, degraded).
	Watch = Type{"ab74ea6a140a48a28b83fb383cdead74", "watch"}
	// Run: what one `gomaint run` did with one cache (and pruned).
	Run = Type{"3970b936c5f0428787c11f00771ecdd6", "run"}

	// Alerts (maint/alert): an alert delivered to a route; an attempt that
	// failed and will be retried; an alert given up (retry_for passed, or
	// a receiver refused it for good); an alert that could not be spooled.
	AlertDelivered  = Type{"f54060398a5d401b9c1d9c2a876ed93a", "alert"}
	AlertFailed     = Type{"6abb61ad5f8f4e829538627f2ad9f529", "alert"}
	AlertDropped    = Type{"59ab1a5e87694213b6f4dec38e2ddf4c", "alert"}
	AlertNotSpooled = Type{"cd33480219f5442b8740f1e1d2afa5e5", "alert"}
)

// Types lists the event types declared here, for the catalog test; each
// finding code has its own, declared with the code (maint/finding).
func Types() []Type {
	return []Type{Audit, GorootOK, ConfigInvalid, Trim, Repair, Verify, VerifyIncomplete, Ready, Reloaded, ReloadFailed, Stopping, Rescan, Control, Watch, Run,
		AlertDelivered, AlertFailed, AlertDropped, AlertNotSpooled}
}
