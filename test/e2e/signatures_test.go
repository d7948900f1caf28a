package e2e

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/kritis-project/kritis/pkg/attest"
)

// TestSignatures runs every row of cases/signatures.md through the real API
// server: a Pod naming R/app@sha256:A in a namespace whose policy trusts an
// authority holding K1.
func TestSignatures(t *testing.T) {
	t.Parallel()
	k1, k2 := mustKey(t, "ecdsa-p256"), mustKey(t, "ecdsa-p256")
	tests := []struct {
		name    string
		aaKeyID string
		// setup writes signatures for img (R/app@A); other is another
		// image of the same repository (digest B) and elsewhere a digest
		// in another repository.
		setup func(t *testing.T, img, other, elsewhere name.Digest)
		admit bool
		want  string // in the denial
	}{
		{
			name:  "by K1 over R/app and A",
			setup: func(t *testing.T, img, _, _ name.Digest) { sign(t, img, k1, img.Context(), img.DigestStr(), "", nil) },
			admit: true,
		},
		{
			name: "by K1 with the cosign CLI payload type",
			setup: func(t *testing.T, img, _, _ name.Digest) {
				p := fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`, img.Context().Name(), img.DigestStr())
				pushSig(t, img, []byte(p), signB64(t, k1, []byte(p)))
			},
			admit: true,
		},
		{
			name:  "by K2 not in the authority",
			setup: func(t *testing.T, img, _, _ name.Digest) { sign(t, img, k2, img.Context(), img.DigestStr(), "", nil) },
			want:  "no signature by a key of authority aa1",
		},
		{
			name: "by K1 over digest B of the same repository",
			setup: func(t *testing.T, img, other, _ name.Digest) {
				sign(t, img, k1, img.Context(), other.DigestStr(), "", nil)
			},
			want: "is for another digest (" + "sha256:",
		},
		{
			name: "by K1 for another image, copied into R/app's signature tag",
			setup: func(t *testing.T, img, _, elsewhere name.Digest) {
				sign(t, img, k1, elsewhere.Context(), img.DigestStr(), "", nil)
			},
			want: "is for another image",
		},
		{
			name: "by K1, one payload byte altered after signing",
			setup: func(t *testing.T, img, _, _ name.Digest) {
				sign(t, img, k1, img.Context(), img.DigestStr(), "", func(p []byte) []byte {
					return bytes.Replace(p, []byte(`"optional"`), []byte(`"optionaL"`), 1)
				})
			},
			want: "no signature by a key of authority aa1",
		},
		{
			name: "by K1, signature annotation not valid base64",
			setup: func(t *testing.T, img, _, _ name.Digest) {
				p, _ := attest.NewPayload(img.Context(), img.DigestStr(), "")
				pushSig(t, img, p, "%%%not base64%%%")
			},
			want: "base64",
		},
		{
			name: "two signatures, by K2 and by K1",
			setup: func(t *testing.T, img, _, _ name.Digest) {
				sign(t, img, k2, img.Context(), img.DigestStr(), "", nil)
				sign(t, img, k1, img.Context(), img.DigestStr(), "", nil)
			},
			admit: true,
		},
		{
			name:    "by K1 recording key id X, authority's key id Y",
			aaKeyID: "Y",
			setup:   func(t *testing.T, img, _, _ name.Digest) { sign(t, img, k1, img.Context(), img.DigestStr(), "X", nil) },
			want:    `records key id "X", but the authority's key id is "Y"`,
		},
		{
			name:  "no signature",
			setup: func(t *testing.T, _, _, _ name.Digest) {},
			want:  "no signature found",
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := namespace(t)
			repo := fmt.Sprintf("sigs/row%d", i)
			img := pushRandom(t, repo, "a")
			other := pushRandom(t, repo, "b")
			elsewhere := pushRandom(t, repo+"-other", "a")
			tt.setup(t, img, other, elsewhere)
			authority(t, ns, "aa1", k1.Public(), tt.aaKeyID)
			policy(t, ns, "gap1", "aa1")

			err := createPod(t, ns, "app", img.String(), false)
			if tt.admit {
				if err != nil {
					t.Fatalf("want admitted, got: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want denied (%s), but the Pod was admitted", tt.want)
			}
			msg := err.Error()
			wantFirst := fmt.Sprintf(`admission webhook "kritis-validation-hook.grafeas.io" denied the request: image %s is not attested`, img.String())
			if !strings.Contains(msg, wantFirst) {
				t.Errorf("denial lacks %q:\n%s", wantFirst, msg)
			}
			if !strings.Contains(msg, "spec.containers[0].image") || !strings.Contains(msg, tt.want) {
				t.Errorf("denial lacks field path or %q:\n%s", tt.want, msg)
			}
		})
	}
}

func signB64(t *testing.T, key crypto.Signer, payload []byte) string {
	t.Helper()
	sig, err := attest.SignRaw(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// pushSig writes one signature layer by hand, as the format in DESIGN.md
// describes it, so that malformed variants can be stored.
func pushSig(t *testing.T, img name.Digest, payload []byte, sigB64 string) {
	t.Helper()
	tag, err := attest.SignatureTag(img)
	if err != nil {
		t.Fatal(err)
	}
	layer := static.NewLayer(payload, types.MediaType("application/vnd.dev.cosign.simplesigning.v1+json"))
	si, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{"dev.cosignproject.cosign/signature": sigB64},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, si, remote.WithContext(context.Background())); err != nil {
		t.Fatalf("pushing %s: %v", tag, err)
	}
}
