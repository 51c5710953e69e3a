package journal

// Type is one kind of event: its MESSAGE_ID (fixed forever, made once with
// `systemd-id128 new`), its GOMAINT_EVENT name and the catalog subject.
// units/gomaint.catalog holds an entry for every MESSAGE_ID here; a test
// keeps the two in step.
type Type struct {
	ID    string
	Event string
}

// Event types that are not findings.
var (
	Audit         = Type{"9c8fc256b97e4d1099a5fd6798b7f5d6", "audit"}
	GorootOK      = Type{"5800867cca0047398d82bcfd6a219ac4", "goroot"}
	ConfigInvalid = Type{"cefea96cff0b4d9eb91218e2f8ff0f0d", "config"}
	Trim          = Type{"166ecd6da517476d9e5d5b7ea9eac521", "trim"}
	Repair        = Type{"9257c7746651451b8511f59ca618987f", "repair"}

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
)

// Findings maps each finding code to its event type. GOROOT findings are
// "goroot" events so that one query finds every GOROOT verdict.
var Findings = map[string]Type{
	"GOROOT_MISSING":     {"d743b29773554e5b852d878366c16ea0", "goroot"},
	"GOROOT_INVALID":     {"f72186e9832b4f3aa7b53cf1f6ee99d8", "goroot"},
	"CACHE_DISABLED":     {"2b16e6a0b7544f4b8ea325ceae83fea5", "finding"},
	"CACHE_VOLATILE":     {"ec7a4f18d76a4ecd86667437c5bc4b98", "finding"},
	"CACHE_UNPROTECTED":  {"95436c59f52f40bca96554d46a42091c", "finding"},
	"CACHE_NOT_WRITABLE": {"3ea2f6207f934d12812365b8892960db", "finding"},
	"FOREIGN_OWNER":      {"0e76c1d3a5bb4311b20b8706a70e46cc", "finding"},
	"OVER_LIMIT":         {"17d5fc46d2b14504991af9669a3f101c", "finding"},
	"LOW_DISK":           {"d5a5892dad6748109f0de797bfa009ea", "finding"},
	"INODE_PRESSURE":     {"d2170557466c4226ba517a1d9974b115", "finding"},
	"UNEXPECTED_ENTRY":   {"7d50f9c35b734151b4ff7419ba02d790", "finding"},
	"STALE_TOOLCHAINS":   {"911a5d7c816e4ebdbdc49eaf1682e869", "finding"},
	"WORLD_WRITABLE":     {"df5dd074a88045c9bdb7c896f2bab4e9", "finding"},
	"SCAN_INCOMPLETE":    {"181582a8aa444bca98c3dabdb6685b57", "finding"},
	"ATIME_UNRELIABLE":   {"19fe7cae54584deeb512fff250ee06bc", "finding"},
	// The daemon's, not the audit's: a watch that a limit left incomplete.
	"WATCH_DEGRADED": {"523d6bbc4abd4a00ae9ba9672d3955c0", "finding"},
	"UNSAFE_PATH":    {"f574bdaa0fcc48779dbe5b088a5f3055", "finding"},

	// Entries a clean treats in its own way.
	"VERSION_HALF_REMOVED": {"b3f40508f1d645e3bc3e6bbd4cd61439", "finding"},
	"FUTURE_TIMESTAMP":     {"0a5f52d3c5c745c6bddd024835e4f63a", "finding"},
	"TREE_TOO_DEEP":        {"3b59a424fa514225a0b62ee07d2bee00", "finding"},
}

// AllTypes lists every event type, for the catalog test.
func AllTypes() []Type {
	all := []Type{Audit, GorootOK, ConfigInvalid, Trim, Repair, Ready, Reloaded, ReloadFailed, Stopping, Rescan, Control, Watch}
	for _, t := range Findings {
		all = append(all, t)
	}
	return all
}
