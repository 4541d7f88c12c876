package kafka

import "runtime"

func runtime_Gosched() { runtime.Gosched() }
