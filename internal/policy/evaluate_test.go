package policy

import (
	"crypto"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/pkg/attest"
)

var img = name.MustParseReference("r.example/img@sha256:0000000000000000000000000000000000000000000000000000000000000000").(name.Digest)

func newKey(t *testing.T) crypto.Signer {
	t.Helper()
	k, err := attest.GenerateKey("ecdsa-p256")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func signature(t *testing.T, k crypto.Signer, d name.Digest) attest.Signature {
	t.Helper()
	p, err := attest.NewPayload(d.Context(), d.DigestStr(), "")
	if err != nil {
		t.Fatal(err)
	}
	s, err := attest.SignRaw(k, p)
	if err != nil {
		t.Fatal(err)
	}
	return attest.Signature{Payload: p, Sig: s}
}

// TestEvaluate is cases/policies.md: a policy needs all its authorities,
// an image needs one satisfied policy.
func TestEvaluate(t *testing.T) {
	t.Parallel()
	keys := map[string]crypto.Signer{"aa1": newKey(t), "aa2": newKey(t), "aa3": newKey(t)}
	other := name.MustParseReference("r.example/other@sha256:0000000000000000000000000000000000000000000000000000000000000000").(name.Digest)
	tests := []struct {
		name     string
		policies map[string][]string
		signedBy []string // authorities whose keys signed img
		sigs     []attest.Signature
		ok       bool
		want     []string
	}{
		{name: "one authority attests", policies: map[string][]string{"gap1": {"aa1"}}, signedBy: []string{"aa1"}, ok: true},
		{name: "no attestation", policies: map[string][]string{"gap1": {"aa1"}}, want: []string{"policy gap1: authority aa1: no signature found"}},
		{name: "one of two authorities", policies: map[string][]string{"gap1": {"aa1", "aa2"}}, signedBy: []string{"aa1"}, want: []string{"policy gap1: authority aa2: no signature by a key of authority aa2"}},
		{name: "both authorities", policies: map[string][]string{"gap1": {"aa1", "aa2"}}, signedBy: []string{"aa1", "aa2"}, ok: true},
		{name: "second policy satisfied", policies: map[string][]string{"gap1": {"aa1", "aa2"}, "gap2": {"aa3"}}, signedBy: []string{"aa3"}, ok: true},
		{name: "empty authority list", policies: map[string][]string{"gap1": {}}, signedBy: []string{"aa1", "aa2", "aa3"}, want: []string{"policy gap1: names no attestation authority"}},
		{name: "missing authority", policies: map[string][]string{"gap1": {"aa-missing"}}, signedBy: []string{"aa1"}, want: []string{"authority aa-missing: no AttestationAuthority of that name in namespace team"}},
		{name: "signature for another image only", policies: map[string][]string{"gap1": {"aa1"}}, sigs: []attest.Signature{signature(t, keys["aa1"], other)}, want: []string{"is for another image"}},
		{name: "bad key of an authority", policies: map[string][]string{"gap1": {"bad"}}, signedBy: []string{"aa1"}, want: []string{"authority bad: unusable: spec.publicKeyData:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := NewStore()
			for n, k := range keys {
				data, err := attest.EncodePublicKeyData(k.Public())
				if err != nil {
					t.Fatal(err)
				}
				s.PutAuthority(&v1beta1.AttestationAuthority{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "team"}, Spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: data}})
			}
			s.PutAuthority(&v1beta1.AttestationAuthority{ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "team"}, Spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: "bm90IGEga2V5"}})
			for n, auths := range tt.policies {
				s.PutPolicy(&v1beta1.GenericAttestationPolicy{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "team"}, Spec: v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: auths}})
			}
			s.MarkSynced()
			sigs := tt.sigs
			for _, a := range tt.signedBy {
				sigs = append(sigs, signature(t, keys[a], img))
			}
			ns, err := s.Namespace("team")
			if err != nil {
				t.Fatal(err)
			}
			v := ns.Evaluate(img, sigs)
			if v.OK != tt.ok {
				t.Fatalf("OK = %v, want %v (reasons %q)", v.OK, tt.ok, v.Reasons)
			}
			joined := strings.Join(v.Reasons, "\n")
			for _, w := range tt.want {
				if !strings.Contains(joined, w) {
					t.Errorf("reasons lack %q:\n%s", w, joined)
				}
			}
		})
	}
}

// TestStoreFollowsUpdates: a changed or deleted object applies at once.
func TestStoreFollowsUpdates(t *testing.T) {
	t.Parallel()
	k1, k2 := newKey(t), newKey(t)
	s := NewStore()
	s.MarkSynced()
	put := func(k crypto.Signer) {
		data, _ := attest.EncodePublicKeyData(k.Public())
		s.PutAuthority(&v1beta1.AttestationAuthority{ObjectMeta: metav1.ObjectMeta{Name: "aa", Namespace: "team"}, Spec: v1beta1.AttestationAuthoritySpec{PublicKeyData: data}})
	}
	gap := &v1beta1.GenericAttestationPolicy{ObjectMeta: metav1.ObjectMeta{Name: "gap", Namespace: "team"}, Spec: v1beta1.GenericAttestationPolicySpec{AttestationAuthorityNames: []string{"aa"}}}
	put(k1)
	s.PutPolicy(gap)
	sigs := []attest.Signature{signature(t, k1, img)}
	eval := func() Verdict { ns, _ := s.Namespace("team"); return ns.Evaluate(img, sigs) }
	if !eval().OK {
		t.Fatal("signed by the authority's key: want OK")
	}
	put(k2) // key rotated away from k1
	if eval().OK {
		t.Fatal("after the key changed, k1's signature must no longer count")
	}
	// A cluster allowlist added after the namespace's snapshot was taken
	// applies from the next request.
	s.PutAllowlist(&v1beta1.AdmissionAllowlist{ObjectMeta: metav1.ObjectMeta{Name: "sys"}, Spec: v1beta1.AdmissionAllowlistSpec{Patterns: []v1beta1.AllowlistPattern{{NamePattern: "r.example/img@*"}}}})
	if ns, _ := s.Namespace("team"); ns == nil {
		t.Fatal("no snapshot")
	} else if _, ok := ns.Allowlisted(img.String()); !ok {
		t.Fatal("the new cluster allowlist does not apply")
	}
	s.deletePolicy(gap)
	if ns, _ := s.Namespace("team"); len(ns.Policies) != 0 {
		t.Fatalf("deleted policy still applies: %+v", ns.Policies)
	}
}

func TestNotSynced(t *testing.T) {
	t.Parallel()
	if _, err := NewStore().Namespace("x"); err != ErrNotSynced {
		t.Fatalf("err = %v, want ErrNotSynced", err)
	}
}
