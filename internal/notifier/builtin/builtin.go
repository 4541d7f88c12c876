// Package builtin holds the notification templates that ship with Warren, so
// that a [notifier.NAME] table can use one without a file on disk.
//
// A template here is the file NAME.tmpl of this directory, embedded at build
// time. Configuration refers to it as "builtin:NAME" in template-open or
// template-close (for example "builtin:event-open"). The prefix always means a
// built-in template: a real file whose path begins with "builtin:" is named
// with a leading "./" instead. To add a template, add NAME.tmpl here (and a
// test that renders it); nothing else needs to change.
package builtin

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

// Prefix marks a template reference as a built-in template's name.
const Prefix = "builtin:"

//go:embed *.tmpl
var files embed.FS

// Lookup returns the text of the built-in template that ref names. ok is false
// when ref does not start with Prefix; err is set when it does but names no
// built-in template.
func Lookup(ref string) (text string, ok bool, err error) {
	name, ok := strings.CutPrefix(ref, Prefix)
	if !ok {
		return "", false, nil
	}
	b, err := files.ReadFile(name + ".tmpl")
	if err != nil || strings.ContainsAny(name, "/\\") {
		return "", true, &UnknownError{Name: name}
	}
	return string(b), true, nil
}

// Names returns the names of the built-in templates, without Prefix, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".tmpl"); ok {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// UnknownError is returned by Lookup for a name that is not a built-in
// template.
type UnknownError struct{ Name string }

func (e *UnknownError) Error() string {
	return "no built-in template " + Prefix + e.Name + " (there are: " + Prefix + strings.Join(Names(), ", "+Prefix) + ")"
}
