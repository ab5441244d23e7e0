package gameday

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/payments-dr/payments-dr/lambda/testonly/localaws"
)

// runs numbers the game days of this process: each run's table and buckets
// are its own.
var runs atomic.Int64

// standIns keeps the local stand-ins (a dynalite and an s3rver per region)
// between runs of one process: starting them is most of a short run's cost
// (two Node processes each), and a run's own table and buckets keep runs
// apart. A port handed to two stand-ins by chance (localaws picks a free port
// and hands it to node) is harmless for the same reason.
var standIns pool

type pool struct {
	mu   sync.Mutex
	idle []*localaws.Servers
}

// get returns idle stand-ins that still answer, or starts new ones.
func (p *pool) get(ctx context.Context) (*localaws.Servers, error) {
	for {
		p.mu.Lock()
		if len(p.idle) == 0 {
			p.mu.Unlock()
			return localaws.Start()
		}
		s := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.mu.Unlock()
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := s.DynamoDBClient().ListTables(cctx, &dynamodb.ListTablesInput{})
		if err == nil {
			_, err = s.S3Client().ListBuckets(cctx, &s3.ListBucketsInput{})
		}
		cancel()
		if err == nil {
			return s, nil
		}
		s.Close()
	}
}

// put hands stand-ins back once a run is over, without its table.
func (p *pool) put(s *localaws.Servers, table string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	_, err := s.DynamoDBClient().DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table})
	cancel()
	if err != nil {
		s.Close()
		return
	}
	p.mu.Lock()
	p.idle = append(p.idle, s)
	p.mu.Unlock()
}

// CloseStandIns stops the stand-ins kept between runs; call it before the
// process ends.
func CloseStandIns() {
	standIns.mu.Lock()
	idle := standIns.idle
	standIns.idle = nil
	standIns.mu.Unlock()
	for _, s := range idle {
		s.Close()
	}
}
