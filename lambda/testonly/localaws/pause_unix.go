//go:build unix

package localaws

import "syscall"

// SIGSTOP freezes the process while the kernel keeps its listening socket:
// connects still complete (the kernel answers the handshake from the
// backlog) and requests are accepted into socket buffers, but nothing
// answers. That is a brownout as a client sees it, unlike a killed process,
// whose refused connects fail in microseconds.
var (
	sigPause  = syscall.SIGSTOP
	sigResume = syscall.SIGCONT
)
