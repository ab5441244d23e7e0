package main

import (
	"testing"
	"time"
)

func TestMedians(t *testing.T) {
	s := func(cpu float64, rss float64) sample {
		return sample{cpu: time.Duration(cpu * float64(time.Second)), wall: time.Duration(2 * cpu * float64(time.Second)), rssMiB: rss}
	}
	for _, tc := range []struct {
		name       string
		runs       []sample
		wantCPU    float64
		wantRSS    float64
		wantSpread float64
	}{
		{"one run", []sample{s(3, 500)}, 3, 500, 0},
		{"odd count takes the middle, not the mean", []sample{s(9, 600), s(3, 500), s(4, 550)}, 4, 550, 1.5},
		{"even count takes the mean of the middle two", []sample{s(4, 500), s(2, 520), s(3, 510), s(10, 530)}, 3.5, 515, 8.0 / 3.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := medians(tc.runs)
			if m.cpu.Seconds() != tc.wantCPU || m.wall.Seconds() != 2*tc.wantCPU || m.rssMiB != tc.wantRSS {
				t.Errorf("medians = cpu %v wall %v rss %v, want cpu %vs wall %vs rss %v", m.cpu, m.wall, m.rssMiB, tc.wantCPU, 2*tc.wantCPU, tc.wantRSS)
			}
			if got := spread(tc.runs); got != tc.wantSpread {
				t.Errorf("spread = %v, want %v", got, tc.wantSpread)
			}
		})
	}
}
