package apilist

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

const src = `package p

import "time"

// T is a struct.
type T struct {
	A, b int ` + "`json:\"a\"`" + `
	time.Duration
	C    func() time.Time
}

type i interface{ M() }

// I is an interface.
type I interface {
	i
	M(x, y string) (n int, err error)
}

type A = T

func (t *T) P(w *T) []T { return nil }
func (T) V()             {}
func (t *t) Hidden()     {}
func F()                 {}
func f()                 {}

type t struct{ X int }

const (
	C0 I2 = 0
	C1
	c2
	C3 = 3
)

type I2 int

var V, w = 1, 2
`

func TestExported(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, src := range map[string]string{
		"p_test.go":  "package p\nfunc Test() {}\n",
		"ignored.go": "//go:build ignore\n\npackage p\nfunc Ignored() {}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Exported(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"const C0 I2",
		"const C1 I2",
		"const C3",
		"embed I i",
		"embed T time.Duration",
		"field T.A int `json:\"a\"`",
		"field T.C func() time.Time",
		"func F()",
		"imethod I.M(string, string) (int, error)",
		"method (*T).P(*T) []T",
		"method T.V()",
		"type A = T",
		"type I interface",
		"type I2 int",
		"type T struct",
		"var V",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	names := map[string]string{
		"method (*T).P(*T) []T":                    "T.P",
		"method T.V()":                             "T.V",
		"embed T time.Duration":                    "T.Duration",
		"imethod I.M(string, string) (int, error)": "I.M",
		"field T.A int `json:\"a\"`":               "T.A",
		"const C0 I2":                              "C0",
		"var V":                                    "V",
		"func F()":                                 "F",
		"type T struct":                            "T",
	}
	for line, want := range names {
		if got := Name(line); got != want {
			t.Errorf("Name(%q) = %q, want %q", line, got, want)
		}
	}
}

func TestDiffAndUndocumented(t *testing.T) {
	burrow := []string{"type A struct", "field A.X int", "field A.Z bool"}
	missing, extra := Diff([]string{"type A struct", "field A.X int", "field A.Y int", "type W int"},
		burrow, []string{"field A.Z bool"}, []string{"type W int"})
	if len(missing) != 0 || !slices.Equal(extra, []string{"field A.Y int"}) {
		t.Errorf("missing %q, extra %q", missing, extra)
	}
	missing, _ = Diff([]string{"type A struct"}, burrow, []string{"field A.Q bool"}, nil)
	if !slices.Equal(missing, []string{"burrowOnly line not in Burrow's list: field A.Q bool",
		"field A.X int", "field A.Z bool"}) {
		t.Errorf("missing %q", missing)
	}

	doc := "intro `A.Y`\n## Package `p`\n| `W` | `A.X` |\n## Package `q`\n`A.Y`\n"
	lines := []string{"type W struct", "field W.F int", "field A.X int", "field A.Y int"}
	if got := Undocumented(doc, "p", lines); !slices.Equal(got, []string{"A.Y"}) {
		t.Errorf("undocumented %q", got)
	}
	if got := Undocumented(doc, "r", nil); len(got) != 1 {
		t.Errorf("a missing section went unnoticed: %q", got)
	}
}
