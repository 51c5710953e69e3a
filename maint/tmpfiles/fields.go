package tmpfiles

import (
	"errors"
	"strings"
)

// errSyntax is a line systemd-tmpfiles refuses ("Failed to parse line")
// and therefore ignores: an unbalanced quote or a trailing backslash.
var errSyntax = errors.New("unbalanced quote or trailing backslash")

// fields splits the first n fields of a tmpfiles.d line as systemd's
// extract_first_word does with EXTRACT_UNQUOTE: fields end at unquoted
// whitespace, single or double quotes may open and close anywhere within
// a field and are removed, and a backslash, inside quotes or out, takes
// the next character as it is. The systemd-tmpfiles the tests run (252)
// reads `\x41` as "x41", not as a C escape, whatever tmpfiles.d(5) says;
// gomaint writes only `\\` and `\"`, which read the same either way. The
// argument field after the n fields is not needed.
func fields(line string, n int) ([]string, error) {
	var out []string
	i := 0
	for len(out) < n {
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		if i == len(line) {
			break
		}
		var b strings.Builder
		quote := byte(0)
	word:
		for ; i < len(line); i++ {
			c := line[i]
			switch {
			case c == '\\':
				if i+1 == len(line) {
					return nil, errSyntax
				}
				i++
				b.WriteByte(line[i])
			case quote != 0 && c == quote:
				quote = 0
			case quote != 0:
				b.WriteByte(c)
			case c == '"' || c == '\'':
				quote = c
			case isSpace(c):
				break word
			default:
				b.WriteByte(c)
			}
		}
		if quote != 0 {
			return nil, errSyntax
		}
		out = append(out, b.String())
	}
	return out, nil
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
