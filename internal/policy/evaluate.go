package policy

import (
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kritis-project/kritis/internal/allowlist"

	"github.com/kritis-project/kritis/pkg/attest"
)

// Verdict is the outcome of the policies of a namespace for one image.
type Verdict struct {
	// OK is true when at least one policy is satisfied.
	OK bool
	// Policy names the satisfied policy when OK.
	Policy string
	// Reasons says, when not OK, why each policy failed, one entry per
	// policy and unmet authority, e.g. "policy p: authority a: no signature found".
	Reasons []string
}

// Allowlisted returns the rule that admits image as written without
// attestation, if one does.
func (n *Namespace) Allowlisted(image string) (allowlist.Rule, bool) {
	return n.Allowlist.Match(n.Name, image)
}

// Evaluate decides whether img, with the signatures found for it, satisfies
// at least one policy of the namespace. A policy is satisfied when every
// authority it names attests img. Each authority is verified at most once,
// however many policies name it.
func (n *Namespace) Evaluate(img name.Digest, sigs []attest.Signature) Verdict {
	memo := map[string]string{} // authority name -> failure ("" = attests)
	check := func(authName string) string {
		if r, ok := memo[authName]; ok {
			return r
		}
		var r string
		a, ok := n.Authorities[authName]
		switch {
		case !ok:
			r = fmt.Sprintf("no AttestationAuthority of that name in namespace %s", n.Name)
		case a.Err != nil:
			r = fmt.Sprintf("unusable: %v", a.Err)
		default:
			if res := attest.Verify(img, sigs, a.Authority); !res.OK {
				r = res.Detail
			}
		}
		memo[authName] = r
		return r
	}

	var v Verdict
	for _, p := range n.Policies {
		for _, e := range p.PatternErrors {
			v.Reasons = append(v.Reasons, fmt.Sprintf("policy %s: %s (ignored)", p.Name, e))
		}
		if len(p.Authorities) == 0 {
			v.Reasons = append(v.Reasons, fmt.Sprintf("policy %s: names no attestation authority, so it admits nothing", p.Name))
			continue
		}
		satisfied := true
		for _, an := range p.Authorities {
			if r := check(an); r != "" {
				satisfied = false
				v.Reasons = append(v.Reasons, fmt.Sprintf("policy %s: authority %s: %s", p.Name, an, r))
			}
		}
		if satisfied {
			return Verdict{OK: true, Policy: p.Name}
		}
	}
	return v
}
