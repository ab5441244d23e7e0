package gameday

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/payment"
)

// count lets replication drain and then checks every acknowledged payment in
// both regions' tables, and its receipt in the bucket of each region that
// acknowledged it.
//
// Receipts are not replicated here (S3 replication takes minutes, and the
// function repairs a missing receipt on a replay in its own region), so a
// receipt is checked only where the payment was acknowledged: that is the
// region that promised it.
func (g *run) count(ctx context.Context) error {
	for _, r := range g.regions {
		r.stopProbe() // their heartbeats would keep replication busy forever
	}
	// An invocation whose client gave up (a timeout, a killed API) still
	// runs and may still write: counting before it ends would read a
	// replica it is about to change.
	if n := g.regions[0].fn.inflight.Load() + g.regions[1].fn.inflight.Load(); n > 0 {
		g.tl.log("%d invocations still running; waiting for them before counting", n)
	}
	if err := g.await(ctx, "every invocation ended", func() bool {
		return g.regions[0].fn.inflight.Load() == 0 && g.regions[1].fn.inflight.Load() == 0
	}); err != nil {
		return err
	}
	for _, l := range g.links {
		l.resume()
	}
	if err := g.await(ctx, "replication drained", func() bool {
		return g.links[0].pending() == 0 && g.links[1].pending() == 0
	}); err != nil {
		return fmt.Errorf("%w (%s; %s)", err, g.links[0].describe(), g.links[1].describe())
	}
	g.tl.log("replication drained (%d and %d writes replicated); counting", g.links[0].applied.Load(), g.links[1].applied.Load())

	var tables [2]map[string]payment.Record
	for i, r := range g.regions {
		t, err := scan(ctx, r)
		if err != nil {
			return err
		}
		tables[i] = t
	}
	// A payment is its owner's paymentId: the two clients of a pair use the
	// same ids as different callers.
	acks := map[string][]ack{}
	for _, a := range g.clients.snapshot() {
		id := a.Owner + "/" + a.ID
		acks[id] = append(acks[id], a)
	}
	ids := make([]string, 0, len(acks))
	for id := range acks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	g.res.Acknowledged = len(ids)

	type receiptCheck struct {
		id     string
		region int
		rec    payment.Record
	}
	var checks []receiptCheck
	for _, id := range ids {
		lost, dup := []string{}, []string{}
		var recs [2]*payment.Record
		key := payment.Key(acks[id][0].Owner, acks[id][0].ID)
		for i, r := range g.regions {
			rec, ok := tables[i][key]
			switch {
			case !ok:
				lost = append(lost, "missing in "+r.name)
			case rec.Status != payment.StatusProcessed:
				lost = append(lost, fmt.Sprintf("%s in %s", rec.Status, r.name))
			default:
				recs[i] = &rec
			}
		}
		if recs[0] != nil && recs[1] != nil && (recs[0].CreatedAt != recs[1].CreatedAt || recs[0].Region != recs[1].Region) {
			dup = append(dup, fmt.Sprintf("%s holds the one created in %s at %s, %s the one created in %s at %s",
				Primary, recs[0].Region, recs[0].CreatedAt, Secondary, recs[1].Region, recs[1].CreatedAt))
		}
		created := 0
		acked := map[int]bool{}
		for _, a := range acks[id] {
			acked[a.Region] = true
			if a.Status == 201 {
				created++
			}
			for i, rec := range recs {
				if rec != nil && (rec.CreatedAt != a.CreatedAt || rec.Region != a.RecRegion) {
					dup = append(dup, fmt.Sprintf("acknowledged as created in %s at %s, %s holds one created in %s at %s",
						a.RecRegion, a.CreatedAt, g.regions[i].name, rec.Region, rec.CreatedAt))
				}
			}
		}
		if created > 1 {
			dup = append(dup, fmt.Sprintf("acknowledged as created (201) %d times", created))
		}
		if g.regions[0].createdCount(key)+g.regions[1].createdCount(key) > 1 {
			g.res.CreatedTwice = append(g.res.CreatedTwice, id)
		}
		for region := range acked {
			if rec := recs[region]; rec != nil {
				checks = append(checks, receiptCheck{id, region, *rec})
			}
		}
		if len(lost) > 0 {
			for i, r := range g.regions {
				rec := tables[i][key]
				g.tl.log("  %s in %s: %q created %s in %q, replicated version %d", id, r.name, rec.Status, rec.CreatedAt, rec.Region, r.rep.version(key))
			}
			for _, a := range acks[id] {
				g.tl.log("  %s acknowledged %d by %s at %s (created %s in %s)", id, a.Status, g.regions[a.Region].name, g.tl.since(a.At), a.CreatedAt, a.RecRegion)
			}
			g.res.Lost = append(g.res.Lost, fmt.Sprintf("%s: %v", id, lost))
		}
		if len(dup) > 0 {
			g.res.Duplicated = append(g.res.Duplicated, fmt.Sprintf("%s: %v", id, dup))
		}
	}

	var (
		mu   sync.Mutex
		bad  = map[string]string{}
		wg   sync.WaitGroup
		next = make(chan receiptCheck)
	)
	for range 8 {
		wg.Go(func() {
			for c := range next {
				r := g.regions[c.region]
				ok, err := receiptIs(ctx, r, payment.ReceiptKey(c.rec.Key), payment.Receipt(c.rec))
				if err != nil || !ok {
					mu.Lock()
					bad[c.id] = fmt.Sprintf("%s: receipt in %s missing or not the stored record's (%v)", c.id, r.name, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, c := range checks {
		next <- c
	}
	close(next)
	wg.Wait()
	for _, id := range slices.Sorted(maps.Keys(bad)) {
		g.res.Lost = append(g.res.Lost, bad[id])
	}
	for _, l := range g.res.Lost {
		g.tl.log("LOST %s", l)
	}
	for _, d := range g.res.Duplicated {
		g.tl.log("DUPLICATED %s", d)
	}
	g.res.Retries = g.clients.retries
	g.tl.log("%d payments acknowledged (%d client retries), %d receipts checked; created in both regions, one kept: %d",
		len(ids), g.clients.retries, len(checks), len(g.res.CreatedTwice))
	if n := len(g.clients.rejected); n > 0 {
		g.violate("%d payments rejected by the API (4xx), e.g. %s", n, g.clients.rejected[0])
	}
	return nil
}

// scan reads every payment of r's replica by table key (control items left
// out).
func scan(ctx context.Context, r *region) (map[string]payment.Record, error) {
	out := map[string]payment.Record{}
	p := dynamodb.NewScanPaginator(r.rep.direct, &dynamodb.ScanInput{TableName: aws.String(r.table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", r.name, err)
		}
		for _, item := range page.Items {
			var rec payment.Record
			if err := attributevalue.UnmarshalMap(item, &rec); err != nil {
				return nil, fmt.Errorf("scan %s: %w", r.name, err)
			}
			if !control.IsReserved(rec.Key) {
				out[rec.Key] = rec
			}
		}
	}
	return out, nil
}

func receiptIs(ctx context.Context, r *region, key string, want []byte) (bool, error) {
	obj, err := r.aws.S3Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(r.settings.Bucket), Key: &key})
	if err != nil {
		return false, err
	}
	defer obj.Body.Close()
	got, err := io.ReadAll(obj.Body)
	return err == nil && bytes.Equal(got, want), err
}
