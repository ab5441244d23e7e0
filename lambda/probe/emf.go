package probe

import (
	"encoding/json"
	"fmt"

	"github.com/payments-dr/payments-dr/lambda/control"
	"github.com/payments-dr/payments-dr/lambda/emf"
)

// Metric names and dimensions; the stacks' alarms use the same strings.
const (
	MetricNamespace           = "PaymentsDR"
	MetricPeerHealthy         = "PeerHealthy"
	MetricFailoverNameHealthy = "FailoverNameHealthy"
	// MetricObservationWriteFailed is 1 for a round whose observation could not
	// be written into this region's replica, 0 when it was: the handler returns
	// nil either way, so without it a probe that cannot write pages no one.
	MetricObservationWriteFailed = "ObservationWriteFailed"
	DimensionTable               = "TableName"
	DimensionPeerRegion          = "PeerRegion"
	DimensionDomainName          = "DomainName"
)

// EMF document, as in package conflict (CloudWatch embedded metric format
// specification,
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
// the root's _aws member holds the millisecond Timestamp and an array of
// metric directives; every dimension and metric a directive names is a root
// member holding its value; other root members are kept in the log event as
// properties, not published as metrics.
//
// A directive publishes each of its metrics under each of its dimension sets:
// PeerHealthy and ObservationWriteFailed share {TableName, PeerRegion} (both
// are about the peer's item), FailoverNameHealthy has a directive of its own.
type emfDocument struct {
	AWS        emf.Metadata `json:"_aws"`
	TableName  string       `json:"TableName"`
	PeerRegion string       `json:"PeerRegion"`
	DomainName string       `json:"DomainName,omitempty"`

	PeerHealthy            int  `json:"PeerHealthy"`
	ObservationWriteFailed int  `json:"ObservationWriteFailed"`
	FailoverNameHealthy    *int `json:"FailoverNameHealthy,omitempty"`

	// Properties: for reading the log, not metrics.
	Region                string `json:"Region"`
	PeerState             string `json:"PeerState"`
	FailoverNameState     string `json:"FailoverNameState,omitempty"`
	PeerLatencyMs         int64  `json:"PeerLatencyMs"`
	FailoverNameLatencyMs *int64 `json:"FailoverNameLatencyMs,omitempty"`
	Recorded              bool   `json:"Recorded"`
}

// healthy is 1 only for up: unknown (the probe's requests refused) is 0 too, so
// a probe that cannot get through pages instead of watching nothing.
func healthy(s control.State) int {
	if s == control.StateUp {
		return 1
	}
	return 0
}

// emit writes the round's EMF line in one Write, so it cannot interleave with
// log lines on the same stream (stdout in Lambda).
func (p *Prober) emit(obs Observation, peer, failover answer) error {
	doc := emfDocument{
		AWS: emf.Metadata{
			Timestamp: obs.At.UnixMilli(),
			CloudWatchMetrics: []emf.Directive{{
				Namespace:  MetricNamespace,
				Dimensions: [][]string{{DimensionTable, DimensionPeerRegion}},
				Metrics: []emf.Metric{
					// "None": a 0/1 flag whose Average over a period is the
					// share of healthy rounds, which the alarms compare to 0.5.
					{Name: MetricPeerHealthy, Unit: "None"},
					// "Count": its Sum over a period is the number of failed writes.
					{Name: MetricObservationWriteFailed, Unit: "Count"},
				},
			}},
		},
		TableName:     p.cfg.TableName,
		PeerRegion:    p.cfg.PeerRegion,
		PeerHealthy:   healthy(obs.Peer),
		Region:        p.cfg.Region,
		PeerState:     string(obs.Peer),
		PeerLatencyMs: peer.latency.Milliseconds(),
		Recorded:      obs.Recorded == nil,
	}
	if obs.Recorded != nil {
		doc.ObservationWriteFailed = 1
	}
	if p.cfg.FailoverHealthURL != "" {
		v, ms := healthy(obs.FailoverName), failover.latency.Milliseconds()
		doc.AWS.CloudWatchMetrics = append(doc.AWS.CloudWatchMetrics, emf.Directive{
			Namespace:  MetricNamespace,
			Dimensions: [][]string{{DimensionTable, DimensionDomainName}},
			Metrics:    []emf.Metric{{Name: MetricFailoverNameHealthy, Unit: "None"}},
		})
		doc.DomainName = p.domain
		doc.FailoverNameHealthy = &v
		doc.FailoverNameState = string(obs.FailoverName)
		doc.FailoverNameLatencyMs = &ms
	}
	line, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if _, err := p.cfg.Metrics.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("probe: write metrics line: %w", err)
	}
	return nil
}
