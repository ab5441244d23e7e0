package recovery

import "testing"

// The health checks' paths carry a random_id's value, known only once applied: the
// report and the diagram show where it goes, not the Terraform expression.
func TestReadable(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/prod/health/${random_id.primary_api_health-secret_7CF389AE.hex}", "/prod/health/<random_id>"},
		{"/prod/health", "/prod/health"},
		{"/a/${random_id.x.hex}/b/${random_id.y.b64_url}", "/a/<random_id>/b/<random_id>"},
		{"${aws_api_gateway_rest_api.api.id}", "${aws_api_gateway_rest_api.api.id}"},
	}
	for _, tc := range cases {
		if got := Readable(tc.in); got != tc.want {
			t.Errorf("Readable(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
