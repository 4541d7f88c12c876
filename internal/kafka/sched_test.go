package kafka

import (
	"runtime"
	"sort"
)

func runtime_Gosched() { runtime.Gosched() }

func sortStrings(s []string) { sort.Strings(s) }
