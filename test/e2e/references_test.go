package e2e

import (
	"strings"
	"testing"
)

// TestReferenceForms: the rows of cases/references.md that need the real
// API server and registry. The parsing rows are unit tests of
// internal/reference.
func TestReferenceForms(t *testing.T) {
	t.Parallel()
	k := mustKey(t, "ecdsa-p256")
	ns := namespace(t)
	authority(t, ns, "aa", k.Public(), "")
	policy(t, ns, "gap", "aa")
	signed := pushRandom(t, "refs/app", "1.0")
	sign(t, signed, k, signed.Context(), signed.DigestStr(), "", nil)
	unsigned := pushRandom(t, "refs/app", "2.0")
	repo := signed.Context().String()
	hexA := strings.TrimPrefix(signed.DigestStr(), "sha256:")

	tests := []struct {
		name  string
		image string
		admit bool
		want  string
	}{
		{name: "tag and digest, signed: verified by the digest", image: repo + ":1.0@" + signed.DigestStr(), admit: true},
		{name: "tag and digest, unsigned: the tag is kept in the message", image: repo + ":2.0@" + unsigned.DigestStr(), want: "image " + repo + ":2.0@" + unsigned.DigestStr() + " is not attested"},
		{name: "a signed digest behind another tag still counts", image: repo + ":2.0@" + signed.DigestStr(), admit: true},
		{name: "no tag is latest, denied as a tag", image: repo, want: `referenced by tag "latest"`},
		{name: "63 hex digest", image: repo + "@sha256:" + hexA[:63], want: "64 lower-case hex"},
		{name: "sha512 digest", image: repo + "@sha512:" + strings.Repeat("ab", 64), want: `digest algorithm "sha512" is not supported`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := createPod(t, ns, "ref", tt.image, false)
			if tt.admit {
				if err != nil {
					t.Fatalf("want admitted: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want a denial containing %q, got %v", tt.want, err)
			}
		})
	}
}
