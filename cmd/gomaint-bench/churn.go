// The module -run builds again and again (runseries.go): example.com/churn,
// whose package base holds a constant that changes before each build. The
// mid packages use it, so each build rebuilds them and leaves their old
// entries behind; the stable ones are built once; cmd/churn links them
// all. A lite module (-quick) imports nothing and links nothing, so that
// even a cold build of it compiles none of the standard library.

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	churnMids    = 4
	churnStables = 2
	churnFuncs   = 120 // functions per package
)

// churnPackages are the module's packages, and those a change of the
// constant rebuilds.
func churnPackages(lite bool) (all, rebuilt int) {
	if lite {
		return 1 + churnMids + churnStables, 1 + churnMids
	}
	return 2 + churnMids + churnStables, 2 + churnMids // and cmd/churn
}

// writeChurn writes the module at version 0.
func writeChurn(dir string, lite bool) error {
	files := map[string]string{"go.mod": "module example.com/churn\n\ngo 1.22\n"}
	files["base/base.go"] = "package base\n\nimport \"strconv\"\n\n// Tag names the build.\nfunc Tag() string { return \"v\" + strconv.Itoa(Version) }\n"
	if lite {
		files["base/base.go"] = "package base\n\n// Tag names the build.\nfunc Tag() int { return Version }\n"
	}
	var imports, calls strings.Builder
	for i := range churnMids + churnStables {
		pkg, uses := fmt.Sprintf("mid%d", i), "base.Version"
		if i >= churnMids {
			pkg, uses = fmt.Sprintf("stable%d", i-churnMids), "1"
		}
		files[pkg+"/"+pkg+".go"] = churnPackage(pkg, uses, lite)
		fmt.Fprintf(&imports, "\t\"example.com/churn/%s\"\n", pkg)
		fmt.Fprintf(&calls, "\tprintln(%s.F0(3))\n", pkg)
	}
	if !lite {
		files["cmd/churn/main.go"] = fmt.Sprintf("package main\n\nimport (\n\t\"example.com/churn/base\"\n%s)\n\nfunc main() {\n\tprintln(base.Tag())\n%s}\n",
			imports.String(), calls.String())
	}
	for name, text := range files {
		if err := writeFile(filepath.Join(dir, name), []byte(text)); err != nil {
			return err
		}
	}
	return setChurnVersion(dir, 0)
}

// churnPackage is a package of functions, each using the expression uses:
// over strings, or (lite) over ints.
func churnPackage(pkg, uses string, lite bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "package %s\n", pkg)
	var imports []string
	if !lite {
		imports = append(imports, `"strconv"`, `"strings"`)
	}
	if uses != "1" {
		imports = append(imports, `"example.com/churn/base"`)
	}
	if len(imports) > 0 {
		fmt.Fprintf(&b, "\nimport (\n\t%s\n)\n", strings.Join(imports, "\n\t"))
	}
	body := `
// F%[1]d builds a string of n numbers.
func F%[1]d(n int) string {
	var b strings.Builder
	for i := range n + %[1]d {
		b.WriteString(strconv.Itoa(i*%[2]s + %[1]d))
		if i%%7 == %[3]d {
			b.WriteString(strings.Repeat("%[4]s", i%%5))
		}
	}
	return strings.ToUpper(b.String())
}
`
	if lite {
		body = `
// F%[1]d folds n numbers for %[4]s.
func F%[1]d(n int) int {
	s := 0
	for i := range n + %[1]d {
		s += i*%[2]s + %[1]d
		if i%%7 == %[3]d {
			s ^= i << %[3]d
		}
	}
	return s
}
`
	}
	for f := range churnFuncs {
		fmt.Fprintf(&b, body, f, uses, f%7, pkg)
	}
	return b.String()
}

// setChurnVersion sets the constant every mid package uses, in a file
// dated churnGap ago, as a CI job's checkout is older than its build: go
// keeps no index of a package whose files changed in the last 2 s, so a
// build right after a change would miss once more in the next one.
func setChurnVersion(dir string, v int) error {
	file := filepath.Join(dir, "base", "version.go")
	if err := writeFile(file, fmt.Appendf(nil, "package base\n\n// Version changes before each build.\nconst Version = %d\n", v)); err != nil {
		return err
	}
	then := time.Now().Add(-churnGap)
	return os.Chtimes(file, then, then)
}
