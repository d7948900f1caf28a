package allowlist

// Rule is a compiled pattern together with where it applies and where it
// came from.
type Rule struct {
	Pattern Pattern
	// Namespace limits the rule to pods in one namespace; "" means every
	// namespace. Rules from a GenericAttestationPolicy carry the policy's
	// namespace.
	Namespace string
	// Source names the object the rule came from, for messages, e.g.
	// "GenericAttestationPolicy team/gap1" or "AdmissionAllowlist system".
	Source string
}

// Set is the allowlist the hook evaluates on each request. It is immutable
// once built and safe for concurrent use; a nil or empty Set matches
// nothing.
type Set struct {
	rules []Rule
	// hub lists the indexes of rules whose patterns may match a Docker Hub
	// spelling, the only ones worth expanding a short name for.
	hub []int
}

// NewSet builds a Set from rules, which it copies. Rules are tried in the
// order given.
func NewSet(rules ...Rule) *Set {
	s := &Set{rules: append([]Rule(nil), rules...)}
	for i, r := range s.rules {
		if r.Pattern.hub {
			s.hub = append(s.hub, i)
		}
	}
	return s
}

// Len returns the number of rules in the set.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.rules)
}

// Match returns the first rule that applies in namespace and whose pattern
// matches image as written. Failing that, it returns the first applicable
// rule matching a fully-qualified Docker Hub spelling of image (see the
// package documentation), parsing image at most once.
func (s *Set) Match(namespace, image string) (Rule, bool) {
	if s == nil || len(s.rules) == 0 || !plausibleImage(image) {
		return Rule{}, false
	}
	for i := range s.rules {
		r := &s.rules[i]
		if r.appliesIn(namespace) && r.Pattern.raw != "" && r.Pattern.match(image) {
			return *r, true
		}
	}
	var forms []string
	parsed := false
	for _, i := range s.hub {
		r := &s.rules[i]
		if !r.appliesIn(namespace) {
			continue
		}
		if !parsed {
			forms, parsed = dockerHubForms(image), true
			if len(forms) == 0 {
				break
			}
		}
		for _, f := range forms {
			if r.Pattern.match(f) {
				return *r, true
			}
		}
	}
	return Rule{}, false
}

func (r *Rule) appliesIn(namespace string) bool {
	return r.Namespace == "" || r.Namespace == namespace
}
