// Package localaws runs the local stand-ins for DynamoDB (dynalite) and S3
// (s3rver) that the integration tests talk to through the real SDK clients.
// The servers come from the project's node_modules (pinned in package.json);
// they listen on free loopback ports and keep their data in memory (dynalite)
// or in a temporary directory (s3rver) that outlives a restart, so a test can
// stop a dependency and bring it back.
package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// SkipEnv, set to 1, says the local servers are unavailable on purpose and
// lets the integration tests skip. Without it a missing server is a failure.
const SkipEnv = "PAYMENTS_DR_SKIP_LOCAL_AWS"

// Region and the static credentials the servers accept (s3rver checks the
// access key; dynalite takes anything).
const (
	Region    = "us-east-1"
	AccessKey = "S3RVER"
	SecretKey = "S3RVER"
)

// Server is one local server process on a fixed loopback port.
type Server struct {
	name   string
	script string
	args   []string // without the port
	Port   int
	URL    string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	stderr *bytes.Buffer
}

// Servers is a dynalite and an s3rver pair.
type Servers struct {
	DynamoDB *Server
	S3       *Server
	dir      string
}

// ProjectRoot walks up from the working directory to the directory that
// holds go.mod.
func ProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start launches both servers. Callers must Close them.
func Start() (*Servers, error) {
	root, err := ProjectRoot()
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath("node"); err != nil {
		return nil, fmt.Errorf("node is not on PATH (Node 20-22 is needed for the local AWS stand-ins; set %s=1 to skip these tests explicitly)", SkipEnv)
	}
	dynalite := filepath.Join(root, "node_modules", "dynalite", "cli.js")
	s3rver := filepath.Join(root, "node_modules", "s3rver", "bin", "s3rver.js")
	for _, f := range []string{dynalite, s3rver} {
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("%s is missing: run `npm ci` in %s (or set %s=1 to skip these tests explicitly)", f, root, SkipEnv)
		}
	}
	dir, err := os.MkdirTemp("", "payments-dr-s3rver-")
	if err != nil {
		return nil, err
	}
	s := &Servers{
		dir: dir,
		DynamoDB: &Server{name: "dynalite", script: dynalite,
			args: []string{"--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}},
		S3: &Server{name: "s3rver", script: s3rver,
			args: []string{"--directory", dir, "--address", "127.0.0.1", "--silent"}},
	}
	for _, srv := range []*Server{s.DynamoDB, s.S3} {
		if srv.Port, err = freePort(); err != nil {
			s.Close()
			return nil, err
		}
		srv.URL = "http://127.0.0.1:" + strconv.Itoa(srv.Port)
		if err := srv.Start(); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close stops both servers and removes the S3 data directory.
func (s *Servers) Close() {
	if s == nil {
		return
	}
	s.DynamoDB.Stop()
	s.S3.Stop()
	os.RemoveAll(s.dir)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs the server (again) on its port and waits until it accepts
// connections.
func (srv *Server) Start() error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if srv.cmd != nil {
		return nil
	}
	cmd := exec.Command("node", append([]string{srv.script, "--port", strconv.Itoa(srv.Port)}, srv.args...)...)
	srv.stderr = &bytes.Buffer{}
	cmd.Stderr = srv.stderr
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", srv.name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	srv.cmd, srv.exited = cmd, exited

	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			srv.cmd = nil
			return fmt.Errorf("%s exited during startup: %s", srv.name, srv.stderr.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", srv.URL[len("http://"):], 200*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	srv.stopLocked()
	return fmt.Errorf("%s did not listen on port %d within 20s", srv.name, srv.Port)
}

// Stop kills the server and waits for its port to be released.
func (srv *Server) Stop() {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	srv.stopLocked()
}

func (srv *Server) stopLocked() {
	if srv.cmd == nil {
		return
	}
	srv.cmd.Process.Kill()
	<-srv.exited
	srv.cmd = nil
}

// Pause freezes the running server (SIGSTOP) so that it accepts connections
// and requests but answers none, until Resume. Stop still works on a paused
// server (SIGKILL needs no cooperation).
func (srv *Server) Pause() error { return srv.signal(sigPause, "pause") }

// Resume lets a paused server run again (SIGCONT); it then works through
// whatever requests reached it meanwhile, as a recovering dependency does.
func (srv *Server) Resume() error { return srv.signal(sigResume, "resume") }

func (srv *Server) signal(sig os.Signal, what string) error {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if sig == nil {
		return fmt.Errorf("%s %s: this platform has no SIGSTOP/SIGCONT", what, srv.name)
	}
	if srv.cmd == nil {
		return fmt.Errorf("%s %s: not running", what, srv.name)
	}
	if err := srv.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("%s %s: %w", what, srv.name, err)
	}
	return nil
}

// Config is an SDK config for the local servers: static credentials, few
// fast retries and short timeouts, so that a stopped server fails a call in
// milliseconds rather than after the SDK's production backoff.
func (s *Servers) Config() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 2
				o.MaxBackoff = 20 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
		HTTPClient: awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = 500 * time.Millisecond }).
			WithTimeout(5 * time.Second),
	}
}

// DynamoDBClient returns a client for dynalite.
func (s *Servers) DynamoDBClient() *dynamodb.Client {
	return dynamodb.NewFromConfig(s.Config(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(s.DynamoDB.URL) })
}

// S3Client returns a path-style client for s3rver.
func (s *Servers) S3Client() *s3.Client {
	return s3.NewFromConfig(s.Config(), func(o *s3.Options) {
		o.BaseEndpoint = aws.String(s.S3.URL)
		o.UsePathStyle = true
	})
}

// CreateTable creates a payments table shaped like the deployed one (hash
// key paymentId, the sparse accept index of the failback gate) and waits until
// it is active. The index's names are control's (not imported: control's
// tests use this package).
func (s *Servers) CreateTable(ctx context.Context, name string) error {
	db := s.DynamoDBClient()
	str := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &name,
		AttributeDefinitions: []types.AttributeDefinition{str("paymentId"), str("acceptedIn"), str("acceptedSeq")},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("paymentId"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String("accepted"),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("acceptedIn"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("acceptedSeq"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
		BillingMode: types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	return dynamodb.NewTableExistsWaiter(db, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}).Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, 10*time.Second)
}

// Provision creates a payments table and a receipts bucket.
func (s *Servers) Provision(ctx context.Context, table, bucket string) error {
	if err := s.CreateTable(ctx, table); err != nil {
		return err
	}
	return s.CreateBucket(ctx, bucket)
}

// CreateBucket creates a receipts bucket.
func (s *Servers) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.S3Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &name}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

var (
	sharedOnce sync.Once
	shared     *Servers
	sharedErr  error
)

// Shared returns servers shared by the tests of one package, starting them
// on first use. It skips the test only when SkipEnv=1; otherwise a server
// that cannot start fails the test with the reason.
func Shared(t testing.TB) *Servers {
	t.Helper()
	skipIfAsked(t)
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatalf("local AWS stand-ins: %v", sharedErr)
	}
	return shared
}

// Dedicated starts servers for one test alone (for tests that stop them)
// and stops them when the test ends.
func Dedicated(t testing.TB) *Servers {
	t.Helper()
	skipIfAsked(t)
	s, err := Start()
	if err != nil {
		t.Fatalf("local AWS stand-ins: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

func skipIfAsked(t testing.TB) {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skipf("%s=1: local DynamoDB/S3 stand-ins declared unavailable", SkipEnv)
	}
}

// Run runs a package's tests and then stops its shared servers:
// func TestMain(m *testing.M) { os.Exit(localaws.Run(m)) }
func Run(m *testing.M) int {
	code := m.Run()
	shared.Close()
	return code
}

// Hanging returns the URL of a loopback endpoint that accepts connections and
// never answers, as a region that is going away often does; it closes with t.
func Hanging(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}
