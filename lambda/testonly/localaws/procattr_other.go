//go:build !linux

package localaws

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
