package gameday

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// timeline prints what happens, with the time since the game day began.
type timeline struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

func (t *timeline) log(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "%7.2fs  %s\n", time.Since(t.start).Seconds(), fmt.Sprintf(format, args...))
}

func (t *timeline) since(at time.Time) string {
	if at.IsZero() {
		return "never"
	}
	return fmt.Sprintf("%.2fs", at.Sub(t.start).Seconds())
}
