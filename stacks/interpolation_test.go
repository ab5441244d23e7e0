package stacks

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/payments-dr/payments-dr/stacks/synthout"
)

// invalidEscape returns the first backslash escape inside a `${...}` expression of s
// that HCL's quoted string literals do not accept (\n \r \t \" \\ \uNNNN \UNNNNNNNN
// are the valid ones), or "". Terraform parses every JSON string as a template and each
// `${...}` in it as HCL expressions, so one bad escape makes the stack unparsable; cdktf
// does not escape backslashes of Go strings it writes into an expression (the
// deployment trigger once held the authorizer's `\.` pattern).
func invalidEscape(s string) string {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return ""
		}
		s = s[i+2:]
		depth, inString := 1, false
		for j := 0; j < len(s) && depth > 0; j++ {
			c := s[j]
			switch {
			case inString && c == '\\':
				if j+1 >= len(s) || !strings.ContainsRune(`nrt"\uU`, rune(s[j+1])) {
					end := min(j+2, len(s))
					return s[max(0, j-20):end]
				}
				j++
			case c == '"':
				inString = !inString
			case !inString && c == '{':
				depth++
			case !inString && c == '}':
				depth--
			}
		}
	}
}

func TestInvalidEscapeFindsBadEscapes(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{`${sha1(jsonencode({"p" = "a+\.b"}))}`, true},
		{`${sha1(jsonencode({"p" = "a\"b\\c\n"}))}`, false},
		{`plain \. outside any expression`, false},
		{`${aws_lambda_function.f.arn}`, false},
	}
	for _, tt := range tests {
		if got := invalidEscape(tt.in) != ""; got != tt.want {
			t.Errorf("invalidEscape(%q) found one: %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestExpressionsHaveValidEscapes walks every string of both synthesized stacks.
func TestExpressionsHaveValidEscapes(t *testing.T) {
	for _, stack := range []string{synthout.StateStackName, synthout.DRStackName} {
		b, err := os.ReadFile(synthout.StackFile(defaultOut, stack))
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					walk(path+"."+k, e)
				}
			case []any:
				for _, e := range v {
					walk(path+"[]", e)
				}
			case string:
				if bad := invalidEscape(v); bad != "" {
					t.Errorf("%s%s: an expression holds the escape in %q, which HCL refuses (Invalid escape sequence): digest such a value in Go instead", stack, path, bad)
				}
			}
		}
		walk("", doc)
	}
}
