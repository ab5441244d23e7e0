package localaws

import "syscall"

// sysProcAttr makes the kernel kill a server if the test binary dies without
// cleaning up (a panic or a -timeout kill), so no node process is left over.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
