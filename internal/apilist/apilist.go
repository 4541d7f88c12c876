// Package apilist lists the exported declarations of a Go package, one line
// each, from its source. The compatibility tests of protocol, storage and
// evaluator compare the lists with Burrow's to keep docs/compatibility.md true.
//
// The lines (Exported sorts them):
//
//	type T struct               (or interface, or the type expression: "type T int",
//	                            or "type T = U" for an alias)
//	field T.F Type `tag`        an exported field of an exported struct
//	embed T Type                an embedded field or interface
//	imethod I.M(params) results a method of an exported interface
//	method (*T).M(params) results
//	func F(params) results
//	const C Type                (Type as inherited within a const group)
//	var V Type
//
// Parameter names and the values of constants and variables are left out (the
// compatibility tests check constant values themselves), and so is the type of a
// constant or variable declared without one. Test files, and files that build
// constraints exclude, are skipped.
package apilist

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// Exported returns the sorted list of the exported declarations of the package
// in dir, from the files the build would use.
func Exported(dir string) ([]string, error) {
	pkg, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return nil, err
	}
	l := lister{fset: token.NewFileSet()}
	for _, name := range pkg.GoFiles {
		f, err := parser.ParseFile(l.fset, filepath.Join(dir, name), nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			l.decl(d)
		}
	}
	sort.Strings(l.out)
	return l.out, nil
}

type lister struct {
	fset *token.FileSet
	out  []string
}

func (l *lister) add(format string, args ...any) {
	l.out = append(l.out, fmt.Sprintf(format, args...))
}

// expr prints e on one line.
func (l *lister) expr(e ast.Expr) string {
	var b bytes.Buffer
	printer.Fprint(&b, l.fset, e)
	return strings.Join(strings.Fields(b.String()), " ")
}

// sig prints a signature without parameter names: "(string, int) error".
func (l *lister) sig(ft *ast.FuncType) string {
	params := l.types(ft.Params)
	s := "(" + strings.Join(params, ", ") + ")"
	switch results := l.types(ft.Results); len(results) {
	case 0:
	case 1:
		s += " " + results[0]
	default:
		s += " (" + strings.Join(results, ", ") + ")"
	}
	return s
}

func (l *lister) types(fl *ast.FieldList) []string {
	var ts []string
	if fl == nil {
		return nil
	}
	for _, f := range fl.List {
		for range max(len(f.Names), 1) {
			ts = append(ts, l.expr(f.Type))
		}
	}
	return ts
}

func (l *lister) decl(d ast.Decl) {
	switch d := d.(type) {
	case *ast.FuncDecl:
		if !d.Name.IsExported() {
			return
		}
		if d.Recv == nil {
			l.add("func %s%s", d.Name.Name, l.sig(d.Type))
			return
		}
		recv := l.expr(d.Recv.List[0].Type)
		if !ast.IsExported(strings.TrimPrefix(recv, "*")) {
			return
		}
		if strings.HasPrefix(recv, "*") {
			recv = "(" + recv + ")"
		}
		l.add("method %s.%s%s", recv, d.Name.Name, l.sig(d.Type))
	case *ast.GenDecl:
		var groupType string // the type a const group's specs inherit
		for _, s := range d.Specs {
			switch s := s.(type) {
			case *ast.TypeSpec:
				l.typeSpec(s)
			case *ast.ValueSpec:
				typ := ""
				if s.Type != nil {
					typ = " " + l.expr(s.Type)
				}
				if d.Tok == token.CONST {
					if s.Type == nil && len(s.Values) == 0 {
						typ = groupType
					}
					groupType = typ
				}
				for _, n := range s.Names {
					if n.IsExported() {
						l.add("%s %s%s", d.Tok, n.Name, typ)
					}
				}
			}
		}
	}
}

func (l *lister) typeSpec(s *ast.TypeSpec) {
	if !s.Name.IsExported() {
		return
	}
	name := s.Name.Name
	if s.Assign.IsValid() {
		l.add("type %s = %s", name, l.expr(s.Type))
		return
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		l.add("type %s struct", name)
		for _, f := range t.Fields.List {
			tag := ""
			if f.Tag != nil {
				tag = " " + f.Tag.Value
			}
			if len(f.Names) == 0 {
				l.add("embed %s %s%s", name, l.expr(f.Type), tag)
			}
			for _, n := range f.Names {
				if n.IsExported() {
					l.add("field %s.%s %s%s", name, n.Name, l.expr(f.Type), tag)
				}
			}
		}
	case *ast.InterfaceType:
		l.add("type %s interface", name)
		for _, m := range t.Methods.List {
			ft, ok := m.Type.(*ast.FuncType)
			if !ok || len(m.Names) == 0 {
				l.add("embed %s %s", name, l.expr(m.Type))
				continue
			}
			for _, n := range m.Names {
				l.add("imethod %s.%s%s", name, n.Name, l.sig(ft))
			}
		}
	default:
		l.add("type %s %s", name, l.expr(s.Type))
	}
}

// Diff compares got, a package's list, with what it should be: burrow (the
// list of Burrow's package) without burrowOnly, plus warrenOnly. It returns the
// lines that should be in got and are not, and those in got that should not be,
// along with the entries of burrowOnly that are not in burrow and those of
// warrenOnly that are (mistakes in the expectations themselves).
func Diff(got, burrow, burrowOnly, warrenOnly []string) (missing, extra []string) {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	inBurrow, dropped := in(burrow), in(burrowOnly)
	want := in(warrenOnly)
	for _, s := range burrowOnly {
		if !inBurrow[s] {
			missing = append(missing, "burrowOnly line not in Burrow's list: "+s)
		}
	}
	for _, s := range warrenOnly {
		if inBurrow[s] {
			extra = append(extra, "warrenOnly line also in Burrow's list: "+s)
		}
	}
	for _, s := range burrow {
		if !dropped[s] {
			want[s] = true
		}
	}
	have := in(got)
	for s := range want {
		if !have[s] {
			missing = append(missing, s)
		}
	}
	for s := range have {
		if !want[s] {
			extra = append(extra, s)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// Name returns the identifier a line declares: "T" for a type, function,
// constant or variable, "T.M" for a field or method of T. An embedded field is
// named after its type ("T.Module" for "embed T protocol.Module").
func Name(line string) string {
	kind, rest, _ := strings.Cut(line, " ")
	switch kind {
	case "method":
		// "(*T).M(...)" or "T.M(...)"
		if ptr, ok := strings.CutPrefix(rest, "(*"); ok {
			rest = strings.Replace(ptr, ").", ".", 1)
		}
	case "embed":
		owner, typ, _ := strings.Cut(rest, " ")
		typ, _, _ = strings.Cut(typ, " ")
		typ = strings.TrimPrefix(typ, "*")
		return owner + "." + typ[strings.LastIndex(typ, ".")+1:]
	}
	end := strings.IndexAny(rest, " (")
	if end < 0 {
		return rest
	}
	return rest[:end]
}

// Undocumented returns the names of lines (see Name) that the section of doc
// headed "## Package `pkg`" does not mention in backquotes. A member of a type
// whose own "type" line is among lines is covered by the type's name.
func Undocumented(doc, pkg string, lines []string) []string {
	heading := "\n## Package `" + pkg + "`"
	start := strings.Index(doc, heading)
	if start < 0 {
		return []string{"(no section " + strings.TrimSpace(heading) + ")"}
	}
	section := doc[start+len(heading):]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	types := map[string]bool{}
	for _, s := range lines {
		if strings.HasPrefix(s, "type ") {
			types[Name(s)] = true
		}
	}
	var missing []string
	for _, s := range lines {
		name := Name(s)
		if owner, _, ok := strings.Cut(name, "."); ok && types[owner] {
			continue
		}
		if !strings.Contains(section, "`"+name+"`") {
			missing = append(missing, name)
		}
	}
	return missing
}

// Check is the compatibility test of one package, run from the package's
// directory. The package's API must be Burrow's, read from testdata/burrow.api
// (one line each, as Exported gives them; "#" starts a comment line), without
// burrowOnly plus warrenOnly. Every difference must be named in the section
// "## Package `pkg`" of ../docs/compatibility.md.
func Check(t testing.TB, pkg string, burrowOnly, warrenOnly []string) {
	t.Helper()
	raw, err := os.ReadFile("testdata/burrow.api")
	if err != nil {
		t.Fatal(err)
	}
	var burrow []string
	for _, line := range strings.Split(string(raw), "\n") {
		if line != "" && !strings.HasPrefix(line, "#") {
			burrow = append(burrow, line)
		}
	}
	got, err := Exported(".")
	if err != nil {
		t.Fatal(err)
	}
	missing, extra := Diff(got, burrow, burrowOnly, warrenOnly)
	for _, s := range missing {
		t.Errorf("%s lacks what docs/compatibility.md says it has: %s", pkg, s)
	}
	for _, s := range extra {
		t.Errorf("%s has what docs/compatibility.md does not account for: %s", pkg, s)
	}
	doc, err := os.ReadFile("../docs/compatibility.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Undocumented(string(doc), pkg, append(slices.Clone(burrowOnly), warrenOnly...)) {
		t.Errorf("docs/compatibility.md does not name %s in its section on %s", name, pkg)
	}
}
