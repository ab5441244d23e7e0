package review

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Action is what a plan does to one address.
type Action string

const (
	Create  Action = "create"
	Update  Action = "update"
	Replace Action = "replace"
	Destroy Action = "destroy"
	NoOp    Action = "no-op" // only moved, or unchanged
)

// Change is what the plan does to one resource, data source or output.
type Change struct {
	Address       string       `json:"address"`
	Mode          string       `json:"mode"`
	Type          string       `json:"type,omitempty"`
	Action        Action       `json:"action"`
	MovedFrom     string       `json:"movedFrom,omitempty"`
	MoveDeclared  bool         `json:"moveDeclared,omitempty"`
	MovedBlock    string       `json:"movedBlock,omitempty"`
	CDKTFMove     string       `json:"cdktfMove,omitempty"`
	ForcedBy      []string     `json:"forcedBy,omitempty"`
	Attributes    []AttrChange `json:"attributes,omitempty"`
	ConstructPath string       `json:"constructPath,omitempty"`
}

// Risk is a destroy, replace or undeclared move of something that holds data or identity.
type Risk struct {
	Address string `json:"address"`
	Action  string `json:"action"`
	Why     string `json:"why"`
	// PreventDestroy says whether lifecycle.prevent_destroy would stop the apply, and why.
	PreventDestroy string `json:"preventDestroy"`
	Stopped        bool   `json:"stoppedByPreventDestroy"`
	Also           string `json:"also,omitempty"`
}

// StackPlan is the review of one stack.
type StackPlan struct {
	Name        string         `json:"name"`
	OnlyIn      string         `json:"onlyIn,omitempty"` // "base" or "head" when the stack is on one side only
	Risks       []Risk         `json:"dataAtRisk"`
	Resources   []Change       `json:"resources"`
	DataSources []Change       `json:"dataSources"`
	Outputs     []Change       `json:"outputs"`
	Settings    []AttrChange   `json:"settings"`
	Recovery    *RecoveryDelta `json:"recovery,omitempty"`
}

// Summary counts resource changes over every stack.
type Summary struct {
	Add     int `json:"add"`
	Change  int `json:"change"`
	Replace int `json:"replace"`
	Destroy int `json:"destroy"`
	Move    int `json:"move"`
}

// Line is the review's last line.
func (s Summary) Line(changed bool) string {
	if !changed {
		return "No changes."
	}
	return fmt.Sprintf("Plan: %d to add, %d to change, %d to replace, %d to destroy, %d to move.", s.Add, s.Change, s.Replace, s.Destroy, s.Move)
}

// planStack compares one stack's two sides; either may be nil (stack added or removed).
func planStack(name string, base, head *Stack) StackPlan {
	if base == nil {
		base = &Stack{Name: name, Blocks: map[string]*Block{}}
	}
	if head == nil {
		head = &Stack{Name: name, Blocks: map[string]*Block{}}
	}
	p := &planner{base: base, head: head, moved: map[string]string{}, declared: map[string]bool{}}
	p.findMoves()
	p.compare()
	p.propagate()
	return p.result(name)
}

type planner struct {
	base, head *Stack
	moved      map[string]string // base address -> head address
	declared   map[string]bool   // head address whose move has a moved block
	renamedB   map[string]*Block // base blocks with references rewritten through moves, by head address
	changes    map[string]*Change
}

// movable are the blocks a rename can keep: resources (state follows a moved block) and
// data sources (no state: a rename only changes the references to them).
func (p *planner) movable(s *Stack) map[string]*Block {
	out := map[string]*Block{}
	for a, b := range s.Blocks {
		if b.Mode != "output" {
			out[a] = b
		}
	}
	return out
}

// findMoves pairs a removed address with an added one of the same type that names the same
// remote object: first the stack's own moved blocks, then identity (the schema's Identity
// arguments with references rewritten through moves found so far), then identical
// configuration. Repeats until nothing new pairs up, because moving a bucket makes its
// versioning, policy and notification configuration match too.
func (p *planner) findMoves() {
	bRes, hRes := p.movable(p.base), p.movable(p.head)
	for _, m := range p.head.Moved {
		if bRes[m.From] != nil && hRes[m.To] != nil && hRes[m.From] == nil && bRes[m.To] == nil {
			p.moved[m.From] = m.To
			p.declared[m.To] = true
		}
	}
	for {
		targets := map[string]bool{}
		for _, to := range p.moved {
			targets[to] = true
		}
		var removed, added []*Block
		for a, b := range bRes {
			if hRes[a] == nil && p.moved[a] == "" {
				removed = append(removed, b)
			}
		}
		for a, b := range hRes {
			if bRes[a] == nil && !targets[a] {
				added = append(added, b)
			}
		}
		if len(removed) == 0 || len(added) == 0 {
			return
		}
		found := p.pair(removed, added, func(b *Block, renamed bool) string { return identityKey(b, renamed, p.moved) })
		if !found {
			found = p.pair(removed, added, func(b *Block, renamed bool) string { return contentKey(b, renamed, p.moved) })
		}
		if !found {
			return
		}
	}
}

// pair records a move for each key that exactly one removed and one added block share.
func (p *planner) pair(removed, added []*Block, key func(*Block, bool) string) bool {
	type group struct{ from, to []*Block }
	groups := map[string]*group{}
	get := func(k string) *group {
		if groups[k] == nil {
			groups[k] = &group{}
		}
		return groups[k]
	}
	for _, b := range removed {
		if k := key(b, true); k != "" {
			g := get(b.Mode + "\x00" + b.Type + "\x00" + k)
			g.from = append(g.from, b)
		}
	}
	for _, b := range added {
		if k := key(b, false); k != "" {
			g := get(b.Mode + "\x00" + b.Type + "\x00" + k)
			g.to = append(g.to, b)
		}
	}
	found := false
	for _, g := range groups {
		if len(g.from) == 1 && len(g.to) == 1 {
			p.moved[g.from[0].Address()] = g.to[0].Address()
			found = true
		}
	}
	return found
}

func identityKey(b *Block, isBase bool, moved map[string]string) string {
	s, ok := providerSchema[b.Type]
	if !ok || len(s.Identity) == 0 {
		return ""
	}
	var parts []string
	set := false
	for _, f := range s.Identity {
		v := b.Attrs[f]
		if isBase {
			v = renameRefs(v, moved)
		}
		if v != nil {
			set = true
		}
		parts = append(parts, render(v))
	}
	if !set {
		return ""
	}
	return render(b.Attrs["provider"]) + "|" + strings.Join(parts, "|")
}

func contentKey(b *Block, isBase bool, moved map[string]string) string {
	attrs := comparable(b.Attrs)
	if isBase {
		return render(renameRefs(attrs, moved))
	}
	return render(attrs)
}

// comparable drops what a plan does not compare: dependencies and lifecycle settings.
func comparable(attrs map[string]any) map[string]any {
	out := make(map[string]any, len(attrs))
	for k, v := range attrs {
		switch k {
		case "depends_on", "lifecycle", "//":
			continue
		}
		out[k] = v
	}
	return out
}

// compare diffs every block present on both sides (at the same or a moved address).
func (p *planner) compare() {
	p.changes = map[string]*Change{}
	p.renamedB = map[string]*Block{}
	into := map[string]string{} // head address -> base address
	for from, to := range p.moved {
		into[to] = from
	}
	for addr, hb := range p.head.Blocks {
		c := &Change{Address: addr, Mode: hb.Mode, Type: hb.Type, ConstructPath: hb.ConstructPath}
		baseAddr := addr
		if from, ok := into[addr]; ok && hb.Mode == "data" {
			baseAddr = from // renamed: nothing to move, a data source holds no state
		} else if ok {
			baseAddr = from
			c.MovedFrom = from
			c.MoveDeclared = p.declared[addr]
			c.MovedBlock = fmt.Sprintf("moved {\n  from = %s\n  to   = %s\n}", from, addr)
			c.CDKTFMove = fmt.Sprintf("%s.MoveFromId(jsii.String(%q))", constructVar(hb.ConstructPath), from)
		}
		bb := p.base.Blocks[baseAddr]
		if bb == nil {
			c.Action = Create
			p.changes[addr] = c
			continue
		}
		renamed := &Block{Mode: bb.Mode, Type: bb.Type, Name: bb.Name, ConstructPath: bb.ConstructPath,
			Attrs: renameRefs(bb.Attrs, p.moved).(map[string]any)}
		p.renamedB[addr] = renamed
		c.Action = NoOp
		p.diff(c, renamed, hb)
		p.changes[addr] = c
	}
	for addr, bb := range p.base.Blocks {
		if p.head.Blocks[addr] != nil || p.moved[addr] != "" {
			continue
		}
		p.changes[addr] = &Change{Address: addr, Mode: bb.Mode, Type: bb.Type, Action: Destroy, ConstructPath: bb.ConstructPath}
	}
}

func constructVar(path string) string {
	if path == "" {
		return "<resource>"
	}
	return "<the resource at " + path + ">"
}

func (p *planner) diff(c *Change, base, head *Block) {
	var attrs []AttrChange
	if head.Mode == "output" {
		diffValues("value", base.Attrs["value"], head.Attrs["value"], &attrs)
		if sensitive(base) || sensitive(head) {
			for i := range attrs {
				attrs[i].Old, attrs[i].New = Hidden, Hidden
			}
		}
		for _, k := range unionKeys(base.Attrs, head.Attrs) {
			if k != "value" {
				diffValues(k, base.Attrs[k], head.Attrs[k], &attrs)
			}
		}
	} else {
		diffValues("", comparable(base.Attrs), comparable(head.Attrs), &attrs)
	}
	s := providerSchema[head.Type]
	for i := range attrs {
		a := &attrs[i]
		if head.Mode != "resource" {
			continue
		}
		if matchesAny(a.Path, s.Sensitive) {
			a.Old, a.New = Hidden, Hidden
		}
		switch {
		case a.Path == "provider":
			a.ForcesReplacement = true
			a.Note = "another provider is another region or account: Terraform cannot move the object there"
		case matchesAny(a.Path, s.ForceNew):
			a.ForcesReplacement = true
		}
	}
	c.Attributes = attrs
	p.settle(c)
}

// settle derives the action from the attribute changes.
func (p *planner) settle(c *Change) {
	if c.Action == Create || c.Action == Destroy {
		return
	}
	c.Action, c.ForcedBy = NoOp, nil
	for _, a := range c.Attributes {
		if a.ForcesReplacement && c.Mode == "resource" {
			c.Action = Replace
			c.ForcedBy = append(c.ForcedBy, a.Path)
		} else if c.Action == NoOp {
			c.Action = Update
		}
	}
}

func sensitive(b *Block) bool {
	v, _ := b.Attrs["sensitive"].(bool)
	return v
}

// propagate does what a plan does with values it cannot know yet: a created or replaced
// resource's computed attributes (arn, id, …) are unknown until apply, so every argument
// that references them is unknown too; when that argument forces a new resource, the
// dependent is replaced as well. Data sources that read unknown values are read during
// apply, and everything they feed is unknown. A data source whose own configuration
// changed (a policy document with a new statement) is read during plan: its dependents
// change with it. Repeats until no new replacement appears.
func (p *planner) propagate() {
	for {
		unknown := map[string]string{} // address -> why its attributes are unknown
		changedData := map[string]bool{}
		for addr, c := range p.changes {
			switch {
			case c.Mode == "resource" && c.Action == Create:
				unknown[addr] = "is created"
			case c.Mode == "resource" && c.Action == Replace:
				unknown[addr] = "is replaced"
			case c.Mode == "data" && c.Action != NoOp && c.Action != Destroy:
				changedData[addr] = true
			}
		}
		for grew := true; grew; {
			grew = false
			for addr, b := range p.head.Blocks {
				if b.Mode != "data" || unknown[addr] != "" {
					continue
				}
				for _, r := range refsIn(b.Attrs) {
					if why := unknown[r.Address]; why != "" && !knownAfter(p.head.Blocks[r.Address], r.Attr) {
						unknown[addr] = "is read during apply (it reads " + r.Address + "." + r.Attr + ", which " + why + ")"
						grew = true
						break
					}
				}
			}
		}
		replaced := false
		for addr, c := range p.changes {
			if c.Action == Create || c.Action == Destroy || c.Mode == "data" {
				continue
			}
			hb := p.head.Blocks[addr]
			before := c.Action
			for _, key := range sortedKeys(comparable(hb.Attrs)) {
				p.markDependent(c, hb, key, unknown, changedData)
			}
			if before != Replace && c.Action == Replace {
				replaced = true
			}
		}
		if !replaced {
			return
		}
	}
}

func (p *planner) markDependent(c *Change, hb *Block, key string, unknown map[string]string, changedData map[string]bool) {
	if c.Mode == "output" && key != "value" {
		return
	}
	base := p.renamedB[c.Address]
	for _, l := range refLeaves(key, hb.Attrs[key], base.Attrs[key]) {
		p.markLeaf(c, l, unknown, changedData)
	}
}

// leaf is one string of an attribute that holds a reference, with the base's value at the
// same path.
type leaf struct {
	Path string
	Head string
	Base any
}

func refLeaves(path string, head, base any) []leaf {
	head, base = unwrapSingle(head, base)
	switch t := head.(type) {
	case string:
		if strings.Contains(t, "${") {
			return []leaf{{path, t, base}}
		}
	case map[string]any:
		bm, _ := base.(map[string]any)
		var out []leaf
		for _, k := range sortedKeys(t) {
			out = append(out, refLeaves(join(path, k), t[k], bm[k])...)
		}
		return out
	case []any:
		bl, _ := base.([]any)
		var out []leaf
		for i, e := range t {
			var be any
			if i < len(bl) {
				be = bl[i]
			}
			out = append(out, refLeaves(path+"["+strconv.Itoa(i)+"]", e, be)...)
		}
		return out
	}
	return nil
}

func (p *planner) markLeaf(c *Change, l leaf, unknown map[string]string, changedData map[string]bool) {
	var note, newValue, oldValue string
	for _, r := range refsIn(l.Head) {
		if why := unknown[r.Address]; why != "" && !knownAfter(p.head.Blocks[r.Address], r.Attr) {
			note, newValue = "references "+r.Address+"."+r.Attr+", which "+why, Unknown
			break
		}
		if note != "" {
			continue
		}
		if changedData[r.Address] {
			note, newValue = "changes with "+r.Address+" (see its changes below)", "(changes with "+r.Address+")"
		} else if from, to, ok := p.changedLiteral(r); ok {
			if matchesAny(r.Attr, providerSchema[typeOf(r.Address)].Sensitive) {
				from, to = Hidden, Hidden
			}
			note, newValue = "references "+r.Address+"."+r.Attr+", which changes from "+from+" to "+to, "(changes with "+r.Address+"."+r.Attr+")"
			if l.Head == "${"+r.Address+"."+r.Attr+"}" {
				note, oldValue, newValue = "the value of "+r.Address+"."+r.Attr, from, to
			}
		}
	}
	if note == "" {
		return
	}
	for i := range c.Attributes {
		a := &c.Attributes[i]
		if a.Path == l.Path || strings.HasPrefix(l.Path, a.Path+".") || strings.HasPrefix(l.Path, a.Path+"[") {
			if a.New != Unknown && !strings.Contains(a.Note, note) {
				a.Note = strings.TrimPrefix(a.Note+"; "+note, "; ")
				if newValue == Unknown {
					a.New = Unknown
				}
			}
			return
		}
	}
	old := render(l.Base)
	if oldValue != "" {
		old = oldValue
	}
	if (c.Mode == "output" && sensitive(p.head.Blocks[c.Address])) || (c.Mode == "resource" && matchesAny(l.Path, providerSchema[c.Type].Sensitive)) {
		old = Hidden
	}
	forces := c.Mode == "resource" && matchesAny(l.Path, providerSchema[c.Type].ForceNew)
	c.Attributes = append(c.Attributes, AttrChange{Path: l.Path, Old: old, New: newValue, ForcesReplacement: forces, Note: note})
	sort.SliceStable(c.Attributes, func(i, j int) bool { return c.Attributes[i].Path < c.Attributes[j].Path })
	p.settle(c)
}

// changedLiteral reports whether a referenced argument is a literal that this change
// sets to a new value (a table's name): its dependents' values change with it.
func (p *planner) changedLiteral(r ref) (from, to string, ok bool) {
	hb, bb := p.head.Blocks[r.Address], p.renamedB[r.Address]
	if hb == nil || bb == nil || !knownAfter(hb, r.Attr) || !knownAfter(bb, r.Attr) {
		return "", "", false
	}
	if equal(bb.Attrs[r.Attr], hb.Attrs[r.Attr]) {
		return "", "", false
	}
	return render(bb.Attrs[r.Attr]), render(hb.Attrs[r.Attr]), true
}

// typeOf is the resource type of an address (data sources have none in the table).
func typeOf(addr string) string {
	t, _, _ := strings.Cut(addr, ".")
	return t
}

// knownAfter reports whether attr of a block being created or replaced is known at plan
// time: only an argument the configuration sets to a literal.
func knownAfter(b *Block, attr string) bool {
	if b == nil {
		return false
	}
	v, ok := b.Attrs[attr]
	if !ok {
		return false
	}
	return len(refsIn(v)) == 0
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (p *planner) result(name string) StackPlan {
	// Empty lists, not null, for machines reading --format json.
	sp := StackPlan{Name: name, Risks: []Risk{}, Resources: []Change{}, DataSources: []Change{}, Outputs: []Change{}, Settings: []AttrChange{}}
	addrs := make([]string, 0, len(p.changes))
	for a := range p.changes {
		addrs = append(addrs, a)
	}
	sort.Strings(addrs)
	for _, a := range addrs {
		c := p.changes[a]
		if c.Action == NoOp && c.MovedFrom == "" {
			continue
		}
		switch c.Mode {
		case "resource":
			sp.Resources = append(sp.Resources, *c)
			if r, ok := p.risk(c); ok {
				sp.Risks = append(sp.Risks, r)
			}
		case "data":
			sp.DataSources = append(sp.DataSources, *c)
		case "output":
			sp.Outputs = append(sp.Outputs, *c)
		}
	}
	for _, k := range unionKeys(p.base.Settings, p.head.Settings) {
		diffValues(k, p.base.Settings[k], p.head.Settings[k], &sp.Settings)
	}
	return sp
}

// risk reports a change that loses data or identity; prevent_destroy semantics from
// https://developer.hashicorp.com/terraform/language/block/resource#prevent_destroy
// ("This rule doesn't prevent Terraform from destroying the resource if you remove the
// resource configuration").
func (p *planner) risk(c *Change) (Risk, bool) {
	why, holds := heldData[c.Type]
	if !holds {
		return Risk{}, false
	}
	r := Risk{Address: c.Address, Why: why}
	var baseBlock *Block
	switch {
	case c.Action == Replace:
		r.Action = "replace (forced by " + strings.Join(c.ForcedBy, ", ") + ")"
		baseBlock = p.renamedB[c.Address]
		if preventDestroy(p.head.Blocks[c.Address]) {
			r.Stopped = true
			r.PreventDestroy = "yes: lifecycle.prevent_destroy is set, so Terraform refuses the plan (\"Instance cannot be destroyed\") until the replacement is undone or the setting removed"
		} else {
			r.PreventDestroy = "no: lifecycle.prevent_destroy is not set"
		}
	case c.Action == Destroy:
		r.Action = "destroy"
		baseBlock = p.base.Blocks[c.Address]
		if preventDestroy(baseBlock) {
			r.PreventDestroy = "no: it was set, but the resource block is gone from the configuration and prevent_destroy went with it"
		} else {
			r.PreventDestroy = "no: lifecycle.prevent_destroy is not set, and the block is gone from the configuration"
		}
	case c.MovedFrom != "" && !c.MoveDeclared:
		r.Action = "move from " + c.MovedFrom + " without a moved block: Terraform destroys " + c.MovedFrom + " and creates " + c.Address
		baseBlock = p.base.Blocks[c.MovedFrom]
		r.PreventDestroy = "no: " + c.MovedFrom + " has no configuration any more, so no prevent_destroy applies to it; add the moved block below"
	default:
		return Risk{}, false
	}
	if baseBlock != nil {
		if v, _ := baseBlock.Attrs["deletion_protection_enabled"].(bool); v {
			r.Also = "deletion_protection_enabled is true, so AWS refuses the delete: the apply fails part-way, after the changes before it were made"
		}
	}
	return r, true
}

func preventDestroy(b *Block) bool {
	if b == nil {
		return false
	}
	lc, _ := b.Attrs["lifecycle"].(map[string]any)
	v, _ := lc["prevent_destroy"].(bool)
	return v
}
