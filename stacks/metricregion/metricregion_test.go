package metricregion

import (
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/config"
)

func TestRegion(t *testing.T) {
	place := Place{Resource: "r", Source: "src", Destination: "dst", Writer: "w"}
	cases := []struct {
		namespace, metric, want string
	}{
		// S3 replication progress is measured where the replicas land...
		{"AWS/S3", "ReplicationLatency", "dst"},
		{"AWS/S3", "BytesPendingReplication", "dst"},
		{"AWS/S3", "OperationsPendingReplication", "dst"},
		// ...and failures where the source is.
		{"AWS/S3", "OperationsFailedReplication", "src"},
		{"AWS/Route53", "HealthCheckStatus", Route53Region},
		{"AWS/Route53", "HealthCheckPercentageHealthy", Route53Region},
		{"AWS/DynamoDB", "ReplicationLatency", "w"},
		{"AWS/Lambda", "Errors", "r"},
		{"AWS/ApiGateway", "5XXError", "r"},
		{PaymentsDRNamespace, "PaymentOverwritten", "r"},
	}
	for _, c := range cases {
		got, err := Region(c.namespace, c.metric, place)
		if err != nil || got != c.want {
			t.Errorf("Region(%s, %s) = %q, %v; want %q", c.namespace, c.metric, got, err, c.want)
		}
	}
}

func TestRegionRefusesGuesses(t *testing.T) {
	cases := []struct {
		name              string
		namespace, metric string
		place             Place
		want              string
	}{
		{"metric not in the table", "AWS/S3", "BucketSizeBytes", Place{Resource: "r"}, "not in the table"},
		{"DynamoDB metric other than replication", "AWS/DynamoDB", "UserErrors", Place{Resource: "r"}, "not in the table"},
		{"destination missing", "AWS/S3", "ReplicationLatency", Place{Source: "src"}, "destination bucket"},
		{"source missing", "AWS/S3", "OperationsFailedReplication", Place{Destination: "dst"}, "source bucket"},
		{"writer missing", "AWS/DynamoDB", "ReplicationLatency", Place{Resource: "r"}, "writing replica"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Region(c.namespace, c.metric, c.place); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
}

// Every row cites the page it rests on.
func TestEveryRuleCitesAWS(t *testing.T) {
	for k, r := range Table {
		if !strings.HasPrefix(r.Doc, "https://docs.aws.amazon.com/") {
			t.Errorf("%v: doc %q is not an AWS documentation page", k, r.Doc)
		}
		if (r.Anchor == Fixed) != (r.Region != "") {
			t.Errorf("%v: anchor %v with region %q", k, r.Anchor, r.Region)
		}
	}
}

// The configuration's validation and the table must agree on Route 53's one region.
func TestRoute53RegionMatchesConfig(t *testing.T) {
	if config.MetricsRegion != Route53Region {
		t.Errorf("config.MetricsRegion %q, table says Route 53 publishes in %q", config.MetricsRegion, Route53Region)
	}
}
