package nodeeol

import "testing"

func TestWithSilenced(t *testing.T) {
	cases := []struct{ list, want string }{
		{"", "20"},
		{"20", "20"},
		{"18", "18,20"},
		{" 18 , 20 ", "18,20"},
		{"18,,", "18,20"},
	}
	for _, tc := range cases {
		if got := WithSilenced(tc.list, "20"); got != tc.want {
			t.Errorf("WithSilenced(%q) = %q, want %q", tc.list, got, tc.want)
		}
	}
}
