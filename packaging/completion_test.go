// Bash completion.

package packaging

import (
	"os"
	"strings"
	"testing"

	"github.com/gomaint/gomaint/maint/testenv"
)

func TestBashCompletion(t *testing.T) {
	const lib = "/usr/share/bash-completion/bash_completion"
	_, err := os.Stat(lib)
	testenv.Need(t, err == nil, "bash-completion ("+lib+")")
	for line, want := range map[string]string{
		"gomaint cl":                   "clean",
		"gomaint config ":              "check show",
		"gomaint check ":               "goroot",
		"gomaint alert ":               "flush list test",
		"gomaint alert test --n":       "--name",
		"gomaint audit --fail-on ":     "error info warning",
		"gomaint --system clean --d":   "--dry-run",
		"gomaint status --":            "--config --json --log --system",
		"gomaint audit --log ":         "auto journal none stderr",
		"gomaint --":                   "--config --log --system",
		"gomaint --config f.toml au":   "audit",
		"gomaint run --pr":             "--prune",
		"gomaint run --prune -- whoam": "whoami",
	} {
		script := `source ` + lib + `
source completion/gomaint.bash
COMP_LINE="$1"; COMP_POINT=${#COMP_LINE}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
_gomaint gomaint "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%s\n' "${COMPREPLY[@]}" | sort -u | tr '\n' ' '`
		out := strings.TrimSpace(must(t, "bash", "-c", script, "bash", line))
		if out != want {
			t.Errorf("%q completes to %q, want %q", line, out, want)
		}
	}
}
