// Package metricregion is the one table of where AWS publishes the CloudWatch metrics
// payments-dr alarms on. CloudWatch evaluates an alarm only against metrics of its own
// region, so an alarm declared anywhere else looks armed and never fires. Constructs pick
// an alarm's region (and so its topic) through Region; the stacks tests check every
// synthesized alarm against the same table. No cdktf here: the recovery report reads it too.
package metricregion

import "fmt"

// Anchor says which region of a metric's subject the metric is published in.
type Anchor int

const (
	// Resource: the region of the resource the metric describes (a function, an API, or
	// for our own Embedded Metric Format metrics the function that printed them).
	Resource Anchor = iota + 1
	// Source and Destination: the two buckets of an S3 replication rule.
	Source
	Destination
	// Writer: the replica a DynamoDB global-table write was made in; the metric's
	// ReceivingRegion dimension names the other one.
	Writer
	// Fixed: one region, whatever the resource (Region holds it).
	Fixed
)

func (a Anchor) String() string {
	switch a {
	case Resource:
		return "resource"
	case Source:
		return "source bucket"
	case Destination:
		return "destination bucket"
	case Writer:
		return "writing replica"
	case Fixed:
		return "fixed region"
	}
	return fmt.Sprintf("Anchor(%d)", int(a))
}

// Rule is where one metric (or a whole namespace) is published, and the page that says so.
type Rule struct {
	Anchor Anchor
	Region string // only for Fixed
	Doc    string
}

// Key names a metric; Metric "" stands for every metric of the namespace.
type Key struct{ Namespace, Metric string }

// Our Embedded Metric Format namespace (lambda/conflict.MetricNamespace and the peer
// probe's metrics); kept as a literal so this package imports nothing of the functions.
const PaymentsDRNamespace = "PaymentsDR"

// Route53Region is the only region with Route 53 health-check metrics.
const Route53Region = "us-east-1"

// Documentation pages behind the table.
const (
	// "Which Region is this metric published in?": Bytes Pending Replication, Replication
	// Latency, Operations Pending Replication -> "the Region of the destination bucket";
	// Operations Failed Replication -> "the Region of the source bucket".
	s3ReplicationDoc = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/repl-metrics.html"
	// "Change the current region to US East (N. Virginia). Route 53 metrics are not
	// available if you select any other region as the current region."
	route53Doc = "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/monitoring-health-checks.html"
	// "ReplicationLatency ... is emitted for every source- and destination-Region pair";
	// the dimensions are TableName and ReceivingRegion. The page does not name the region
	// the pair is published in; AWS's tutorials read it in the writing (source) region.
	dynamoDBDoc = "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/V2globaltables_monitoring.html"
	// The function's and the API's own metrics, by FunctionName and ApiName/Stage. The
	// pages name no region: like every CloudWatch metric they are kept in the region of
	// the service endpoint that produced them, the resource's.
	lambdaDoc     = "https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html"
	apiGatewayDoc = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html"
	// EMF "instruct[s] CloudWatch Logs to automatically extract metric values embedded in
	// structured log events": the metrics appear where the log group is, the emitting
	// function's region.
	emfDoc = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html"
	// A queue's metrics, by QueueName; like the others, kept in the queue's region.
	sqsDoc = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html"
)

// Table is every metric payments-dr alarms on, or its namespace.
var Table = map[Key]Rule{
	{"AWS/S3", "ReplicationLatency"}:           {Anchor: Destination, Doc: s3ReplicationDoc},
	{"AWS/S3", "BytesPendingReplication"}:      {Anchor: Destination, Doc: s3ReplicationDoc},
	{"AWS/S3", "OperationsPendingReplication"}: {Anchor: Destination, Doc: s3ReplicationDoc},
	{"AWS/S3", "OperationsFailedReplication"}:  {Anchor: Source, Doc: s3ReplicationDoc},
	{"AWS/Route53", ""}:                        {Anchor: Fixed, Region: Route53Region, Doc: route53Doc},
	{"AWS/DynamoDB", "ReplicationLatency"}:     {Anchor: Writer, Doc: dynamoDBDoc},
	{"AWS/Lambda", ""}:                         {Anchor: Resource, Doc: lambdaDoc},
	{"AWS/ApiGateway", ""}:                     {Anchor: Resource, Doc: apiGatewayDoc},
	{"AWS/SQS", ""}:                            {Anchor: Resource, Doc: sqsDoc},
	{PaymentsDRNamespace, ""}:                  {Anchor: Resource, Doc: emfDoc},
}

// Lookup finds the rule of a metric: its own row, else its namespace's.
func Lookup(namespace, metric string) (Rule, bool) {
	if r, ok := Table[Key{namespace, metric}]; ok {
		return r, true
	}
	r, ok := Table[Key{namespace, ""}]
	return r, ok
}

// Place is what a metric is about, as regions: fill in what the metric's anchor needs.
type Place struct {
	Resource            string // region of the function, API or emitting function
	Source, Destination string // regions of an S3 replication rule's buckets
	Writer              string // region the DynamoDB writes were made in
}

// Region is where namespace/metric about place is published. It fails for a metric the
// table does not know, or a place that lacks what the metric's anchor needs: an alarm
// whose region is a guess is the bug this package exists to prevent.
func Region(namespace, metric string, place Place) (string, error) {
	r, ok := Lookup(namespace, metric)
	if !ok {
		return "", fmt.Errorf("metricregion: %s/%s is not in the table; add it with the AWS page that says where it is published", namespace, metric)
	}
	var region string
	switch r.Anchor {
	case Resource:
		region = place.Resource
	case Source:
		region = place.Source
	case Destination:
		region = place.Destination
	case Writer:
		region = place.Writer
	case Fixed:
		region = r.Region
	}
	if region == "" {
		return "", fmt.Errorf("metricregion: %s/%s is published in the %s's region, and the place does not name it", namespace, metric, r.Anchor)
	}
	return region, nil
}

// MustRegion is Region for synthesis, where a wrong table entry is a programming error.
func MustRegion(namespace, metric string, place Place) string {
	region, err := Region(namespace, metric, place)
	if err != nil {
		panic(err)
	}
	return region
}
