// Package emf holds the metadata of CloudWatch Embedded Metric Format log lines:
// a function that prints them on stdout publishes metrics in its own region
// without cloudwatch:PutMetricData. Each caller embeds Metadata under "_aws" in
// its own line type, next to the metric values and properties it names.
//
// Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package emf

// Metadata is the "_aws" member of a line.
type Metadata struct {
	Timestamp         int64       `json:"Timestamp"` // Unix milliseconds
	CloudWatchMetrics []Directive `json:"CloudWatchMetrics"`
}

// Directive names the metrics of one namespace and their dimension sets.
type Directive struct {
	Namespace  string     `json:"Namespace"`
	Dimensions [][]string `json:"Dimensions"`
	Metrics    []Metric   `json:"Metrics"`
}

// Metric is one metric definition; its value is the line's member of that name.
type Metric struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}
