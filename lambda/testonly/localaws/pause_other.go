//go:build !unix

package localaws

import "os"

// Without SIGSTOP there is no way to freeze a stand-in; Pause reports it.
var (
	sigPause  os.Signal
	sigResume os.Signal
)
