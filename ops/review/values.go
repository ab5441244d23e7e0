package review

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Unknown is how a value that Terraform only learns during apply is shown.
const Unknown = "(known after apply)"

// Hidden is how a sensitive value is shown.
const Hidden = "(sensitive)"

const absent = "(none)"

// AttrChange is one changed attribute path, old → new, as a plan shows it.
type AttrChange struct {
	Path              string `json:"path"`
	Old               string `json:"old"`
	New               string `json:"new"`
	ForcesReplacement bool   `json:"forcesReplacement,omitempty"`
	Note              string `json:"note,omitempty"`
}

// refAddress finds resource and data-source addresses followed by an attribute inside an
// interpolation: aws_x.name.attr, data.aws_x.name.attr.
var refAddress = regexp.MustCompile(`((?:data\.)?[a-z][a-z0-9_]*\.[A-Za-z0-9_-]+)\.([a-z_][a-z0-9_]*)`)

// ref is one ${address.attribute} reference.
type ref struct{ Address, Attr string }

// refsIn lists the references in every string of v.
func refsIn(v any) []ref {
	var out []ref
	walkStrings(v, func(s string) {
		if !strings.Contains(s, "${") {
			return
		}
		for _, m := range refAddress.FindAllStringSubmatch(s, -1) {
			out = append(out, ref{m[1], m[2]})
		}
	})
	return out
}

func walkStrings(v any, f func(string)) {
	switch t := v.(type) {
	case string:
		f(t)
	case map[string]any:
		for _, x := range t {
			walkStrings(x, f)
		}
	case []any:
		for _, x := range t {
			walkStrings(x, f)
		}
	}
}

// renameRefs returns a copy of v with references to renamed addresses rewritten, so that a
// resource that only moved compares equal to itself.
func renameRefs(v any, renamed map[string]string) any {
	if len(renamed) == 0 {
		return v
	}
	switch t := v.(type) {
	case string:
		if !strings.Contains(t, "${") {
			if to, ok := renamed[t]; ok { // depends_on entries are bare addresses
				return to
			}
			return t
		}
		return refAddress.ReplaceAllStringFunc(t, func(m string) string {
			sub := refAddress.FindStringSubmatch(m)
			if to, ok := renamed[sub[1]]; ok {
				return to + "." + sub[2]
			}
			return m
		})
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = renameRefs(x, renamed)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = renameRefs(x, renamed)
		}
		return out
	}
	return v
}

// render shows a value compactly, as JSON.
func render(v any) string {
	if v == nil {
		return absent
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// equal compares two configuration values. cdktf writes a single nested block either as an
// object or as a list of one; both mean the same to Terraform.
func equal(a, b any) bool {
	a, b = unwrapSingle(a, b)
	return reflect.DeepEqual(a, b)
}

func unwrapSingle(a, b any) (any, any) {
	if l, ok := a.([]any); ok && len(l) == 1 {
		if _, isMap := b.(map[string]any); isMap {
			a = l[0]
		}
	}
	if l, ok := b.([]any); ok && len(l) == 1 {
		if _, isMap := a.(map[string]any); isMap {
			b = l[0]
		}
	}
	return a, b
}

// policyDoc parses a string that holds an IAM or key policy document, so it is compared
// statement by statement instead of as one string.
func policyDoc(v any) (map[string]any, bool) {
	s, ok := v.(string)
	if !ok || !strings.HasPrefix(strings.TrimSpace(s), "{") || !strings.Contains(s, "Statement") {
		return nil, false
	}
	var doc map[string]any
	if json.Unmarshal([]byte(s), &doc) != nil {
		return nil, false
	}
	if _, has := doc["Statement"]; !has {
		return nil, false
	}
	return doc, true
}

// diffValues appends the changes between a (base) and b (head) under path.
func diffValues(path string, a, b any, out *[]AttrChange) {
	a, b = unwrapSingle(a, b)
	if reflect.DeepEqual(a, b) {
		return
	}
	if da, ok := policyDoc(a); ok {
		if db, ok := policyDoc(b); ok {
			diffValues(path, da, db, out)
			return
		}
	}
	switch ta := a.(type) {
	case map[string]any:
		if tb, ok := b.(map[string]any); ok {
			for _, k := range unionKeys(ta, tb) {
				diffValues(join(path, k), ta[k], tb[k], out)
			}
			return
		}
	case []any:
		if tb, ok := b.([]any); ok {
			diffLists(path, ta, tb, out)
			return
		}
	}
	*out = append(*out, AttrChange{Path: path, Old: render(a), New: render(b)})
}

func diffLists(path string, a, b []any, out *[]AttrChange) {
	if key := listKey(a, b); key != "" {
		am, bm := byKey(a, key), byKey(b, key)
		for _, k := range unionKeys(am, bm) {
			diffValues(path+"["+strconv.Quote(k)+"]", am[k], bm[k], out)
		}
		return
	}
	if allScalars(a) && allScalars(b) {
		removed, added := scalarDelta(a, b)
		if len(removed) == 0 && len(added) == 0 {
			*out = append(*out, AttrChange{Path: path, Old: render(a), New: render(b), Note: "same elements, new order"})
			return
		}
		*out = append(*out, AttrChange{Path: path, Old: "removed " + render(removed), New: "added " + render(added)})
		return
	}
	for i := 0; i < len(a) || i < len(b); i++ {
		var x, y any
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		diffValues(path+"["+strconv.Itoa(i)+"]", x, y, out)
	}
}

// listKey picks the field that names each block of a list (a statement's sid, an
// attribute's name) when every element on both sides has a distinct one.
func listKey(a, b []any) string {
	for _, key := range []string{"sid", "Sid", "name", "alias", "region_name", "id"} {
		if distinct(a, key) && distinct(b, key) && (len(a) > 0 || len(b) > 0) {
			return key
		}
	}
	return ""
}

func distinct(l []any, key string) bool {
	seen := map[string]bool{}
	for _, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return false
		}
		s, ok := m[key].(string)
		if !ok || s == "" || seen[s] {
			return false
		}
		seen[s] = true
	}
	return true
}

func byKey(l []any, key string) map[string]any {
	out := map[string]any{}
	for _, e := range l {
		m := e.(map[string]any)
		out[m[key].(string)] = m
	}
	return out
}

func allScalars(l []any) bool {
	for _, e := range l {
		switch e.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

func scalarDelta(a, b []any) (removed, added []any) { return minus(a, b), minus(b, a) }

// minus is a without the elements of b, counting repeats.
func minus(a, b []any) []any {
	count := map[string]int{}
	for _, e := range b {
		count[render(e)]++
	}
	var out []any
	for _, e := range a {
		if k := render(e); count[k] > 0 {
			count[k]--
		} else {
			out = append(out, e)
		}
	}
	return out
}

func unionKeys[V any](a, b map[string]V) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, dup := a[k]; !dup {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

var indexSegment = regexp.MustCompile(`\[[^\]]*\]`)

// schemaPath drops list indices and keys: the path a provider schema speaks of.
func schemaPath(path string) string { return indexSegment.ReplaceAllString(path, "") }

// matchesAny reports whether path is one of paths or inside one of them.
func matchesAny(path string, paths []string) bool {
	p := schemaPath(path)
	for _, e := range paths {
		if p == e || strings.HasPrefix(p, e+".") {
			return true
		}
	}
	return false
}
