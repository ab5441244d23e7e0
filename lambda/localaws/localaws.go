// Package localaws opens the local AWS stand-ins of lambda/internal/localaws
// to tests outside lambda/: Go's internal rule hides that package from the
// module root, whose operator commands (go run . drain|status|...) are tested
// against two dynalite servers standing for the two regions' replicas.
//
// It only forwards, so that the packages under lambda/ keep their import and
// there is one implementation to maintain.
package localaws

import (
	"testing"

	inner "github.com/payments-dr/payments-dr/lambda/internal/localaws"
)

type (
	// Servers is a dynalite and an s3rver pair.
	Servers = inner.Servers
	// Server is one local server process on a fixed loopback port.
	Server = inner.Server
)

// See lambda/internal/localaws.
const (
	SkipEnv   = inner.SkipEnv
	Region    = inner.Region
	AccessKey = inner.AccessKey
	SecretKey = inner.SecretKey
)

// Start launches a server pair; callers must Close it.
func Start() (*Servers, error) { return inner.Start() }

// Dedicated starts servers for one test alone and stops them when it ends.
func Dedicated(t testing.TB) *Servers {
	t.Helper()
	return inner.Dedicated(t)
}

// Shared returns the servers shared by one package's tests.
func Shared(t testing.TB) *Servers {
	t.Helper()
	return inner.Shared(t)
}

// Run runs a package's tests, then stops its shared servers.
func Run(m *testing.M) int { return inner.Run(m) }
