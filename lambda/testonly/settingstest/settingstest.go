// Package settingstest checks the functions' settings loaders the same way:
// a good environment gives exactly the expected settings, and a bad one an
// error that names every variable at fault, so a broken deploy is fixed in
// one round.
package settingstest

import (
	"reflect"
	"strings"
	"testing"
)

// Env is a getenv over kv.
func Env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// Check loads settings from env: with no wantErr they must equal want; with
// wantErr the error must contain each of its strings.
func Check[S any](t *testing.T, load func(func(string) string) (S, error), env map[string]string, want S, wantErr []string) {
	t.Helper()
	got, err := load(Env(env))
	if len(wantErr) == 0 {
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("loading settings = %+v, %v; want %+v", got, err, want)
		}
		return
	}
	if err == nil {
		t.Fatalf("loading settings = %+v, want an error", got)
	}
	for _, s := range wantErr {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
}
