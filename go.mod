module github.com/gomaint/gomaint

go 1.26.0

require (
	github.com/BurntSushi/toml v1.6.0
	github.com/coreos/go-systemd/v22 v22.7.0
	github.com/robfig/cron/v3 v3.0.1
	golang.org/x/mod v0.43.0
	golang.org/x/sys v0.49.0
)
