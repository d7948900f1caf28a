package attest

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
)

// TestSignatureCases runs every row of shared/cases/signatures.md against an
// in-process registry: signatures are pushed the way a signer (ours or the
// cosign CLI) would, read back with RegistrySource and decided with Verify.
//
// Image I = R/app@A; authority AA1 holds K1 (key id "Y" where the row
// needs one); K2 is not in AA1.
func TestSignatureCases(t *testing.T) {
	t.Parallel()
	host := newTestRegistry(t)
	src := newTestSource(t)
	k1, k2 := testKey(t, KindECDSAP256), testKey(t, "k2")

	type env struct {
		app   name.Digest // I = R/app@A
		other name.Digest // R/other@A', for signatures naming another image
		b     name.Digest // R/app@B, another digest of the same repository
	}
	tests := []struct {
		name       string
		keyID      string // AA1's publicKeyId
		push       func(t *testing.T, e env)
		wantOK     bool
		wantReason Reason
		wantDetail string // substring of Result.Detail
	}{
		{
			name: "K1 over R/app digest A admits",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k1, e.app.Context(), e.app.DigestStr(), "")
			},
			wantOK: true, wantReason: Verified, wantDetail: "signed by aa1",
		},
		{
			name: "K1 with cosign CLI payload type admits",
			push: func(t *testing.T, e env) {
				// Byte for byte what `cosign sign` writes (no annotations).
				payload := []byte(fmt.Sprintf(`{"critical":{"identity":{"docker-reference":%q},"image":{"docker-manifest-digest":%q},"type":"cosign container image signature"},"optional":null}`,
					e.app.Context().Name(), e.app.DigestStr()))
				pushRaw(t, src, e.app, k1, payload)
			},
			wantOK: true, wantReason: Verified,
		},
		{
			name: "K2 not in AA1 otherwise correct denies untrusted key",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k2, e.app.Context(), e.app.DigestStr(), "")
			},
			wantReason: UntrustedKey, wantDetail: "no signature by a key of authority aa1",
		},
		{
			name: "K1 over digest B of same repository denies wrong digest",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k1, e.app.Context(), e.b.DigestStr(), "")
			},
			wantReason: WrongDigest, wantDetail: "is for another digest (sha256:",
		},
		{
			name: "K1 for R/other copied into R/app sig tag denies wrong image",
			push: func(t *testing.T, e env) {
				// Signed properly for R/other at I's digest (as if the same
				// image had been pushed there), then copied into R/app.
				pushSig(t, src, e.app, k1, e.other.Context(), e.app.DigestStr(), "")
			},
			wantReason: WrongImage, wantDetail: "is for another image (" + host + "/other)",
		},
		{
			name: "K1 payload altered by one byte after signing denies",
			push: func(t *testing.T, e env) {
				payload, sig := signFor(t, k1, e.app.Context(), e.app.DigestStr(), "")
				altered := bytes.Clone(payload)
				i := bytes.Index(altered, []byte("sha256:")) + len("sha256:")
				altered[i] ^= 0x01 // a hex digit becomes another character
				if err := src.Push(testCtx(t), e.app, altered, sig); err != nil {
					t.Fatal(err)
				}
			},
			wantReason: UntrustedKey, wantDetail: "no signature by a key of authority aa1",
		},
		{
			name: "K1 signature annotation not valid base64 denies as malformed",
			push: func(t *testing.T, e env) {
				payload, _ := signFor(t, k1, e.app.Context(), e.app.DigestStr(), "")
				writeRawSigManifest(t, e.app, rawLayer{payload: payload, annotations: map[string]string{SignatureAnnotation: "not base64!!"}})
			},
			wantReason: MalformedSignature, wantDetail: "malformed signature: signature annotation is not valid base64",
		},
		{
			name: "two signatures K2 then K1 correct admits",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k2, e.app.Context(), e.app.DigestStr(), "")
				pushSig(t, src, e.app, k1, e.app.Context(), e.app.DigestStr(), "")
			},
			wantOK: true, wantReason: Verified,
		},
		{
			name:  "K1 with key id X recorded and AA1 publicKeyId Y denies",
			keyID: "Y",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k1, e.app.Context(), e.app.DigestStr(), "X")
			},
			wantReason: KeyIDMismatch, wantDetail: `records key id "X", but the authority's key id is "Y"`,
		},
		{
			name:       "none denies no signature found",
			push:       func(*testing.T, env) {},
			wantReason: NoSignature, wantDetail: "no signature found",
		},
		// Beyond the table: the neighbours of the rows above.
		{
			name:  "K1 with key id Y recorded and AA1 publicKeyId Y admits",
			keyID: "Y",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k1, e.app.Context(), e.app.DigestStr(), "Y")
			},
			wantOK: true, wantReason: Verified,
		},
		{
			name: "K1 with key id recorded and AA1 without publicKeyId admits",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k1, e.app.Context(), e.app.DigestStr(), "X")
			},
			wantOK: true, wantReason: Verified,
		},
		{
			name:  "K1 without key id and AA1 publicKeyId Y admits",
			keyID: "Y",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k1, e.app.Context(), e.app.DigestStr(), "")
			},
			wantOK: true, wantReason: Verified,
		},
		{
			name: "wrong digest by K1 is reported over a K2 signature",
			push: func(t *testing.T, e env) {
				pushSig(t, src, e.app, k2, e.app.Context(), e.app.DigestStr(), "")
				pushSig(t, src, e.app, k1, e.app.Context(), e.b.DigestStr(), "")
			},
			wantReason: WrongDigest,
		},
		{
			name: "malformed and untrusted signatures report the untrusted key",
			push: func(t *testing.T, e env) {
				good, sig := signFor(t, k2, e.app.Context(), e.app.DigestStr(), "")
				writeRawSigManifest(t, e.app,
					rawLayer{payload: []byte("x"), annotations: map[string]string{SignatureAnnotation: "%%%"}},
					rawLayer{payload: good, annotations: map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(sig)}},
				)
			},
			wantReason: UntrustedKey, wantDetail: "(1 malformed signature(s) skipped)",
		},
		{
			name: "K1 over a payload that is not simple signing denies invalid payload",
			push: func(t *testing.T, e env) {
				pushRaw(t, src, e.app, k1, []byte(`{"hello":"world"}`))
			},
			wantReason: InvalidPayload, wantDetail: "signature by aa1 has an invalid payload",
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Each case gets its own repositories in the shared registry.
			r := mustRepo(t, fmt.Sprintf("%s/case%d/app", host, i))
			e := env{
				app:   pushRandomImage(t, r),
				other: pushRandomImage(t, mustRepo(t, fmt.Sprintf("%s/case%d/other", host, i))),
				b:     pushRandomImage(t, r),
			}
			// The "other image" row names host/other; keep the message
			// assertion independent of the case number.
			if strings.Contains(tc.wantDetail, host+"/other") {
				e.other = mustRepo(t, host+"/other").Digest(e.other.DigestStr())
			}
			tc.push(t, e)

			sigs, err := src.Signatures(testCtx(t), e.app)
			if err != nil {
				t.Fatalf("Signatures: %v", err)
			}
			auth := Authority{Name: "aa1", Keys: []PublicKey{pubKey(t, tc.keyID, k1)}}
			got := Verify(e.app, sigs, auth)
			t.Logf("%v: %s", got.Reason, got.Detail)
			if got.OK != tc.wantOK || got.Reason != tc.wantReason || !strings.Contains(got.Detail, tc.wantDetail) {
				t.Errorf("Verify = {OK:%v Reason:%v Detail:%q}, want {OK:%v Reason:%v Detail containing %q}",
					got.OK, got.Reason, got.Detail, tc.wantOK, tc.wantReason, tc.wantDetail)
			}
			// Check gives the same answer in one call.
			res, err := Check(testCtx(t), src, e.app, auth)
			if err != nil || len(res) != 1 || res[0] != got {
				t.Errorf("Check = %+v, %v; want [%+v]", res, err, got)
			}
		})
	}
}

func pushSig(t *testing.T, src *RegistrySource, into name.Digest, key crypto.Signer, repo name.Repository, digest, keyID string) {
	t.Helper()
	payload, sig := signFor(t, key, repo, digest, keyID)
	if err := src.Push(testCtx(t), into, payload, sig); err != nil {
		t.Fatalf("Push: %v", err)
	}
}

func pushRaw(t *testing.T, src *RegistrySource, into name.Digest, key crypto.Signer, payload []byte) {
	t.Helper()
	sig, err := SignRaw(key, payload)
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Push(testCtx(t), into, payload, sig); err != nil {
		t.Fatalf("Push: %v", err)
	}
}

// TestVerifyInMemory covers decisions that need no registry: repository
// normalisation, authorities without keys, several keys.
func TestVerifyInMemory(t *testing.T) {
	t.Parallel()
	k1, k2 := testKey(t, KindECDSAP256), testKey(t, "k2")
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	alpine, err := name.NewDigest("alpine@" + digest)
	if err != nil {
		t.Fatal(err)
	}
	signed := func(key crypto.Signer, ref string) Signature {
		payload, err := Payload{DockerReference: ref, Digest: digest}.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		sig, err := SignRaw(key, payload)
		if err != nil {
			t.Fatal(err)
		}
		return Signature{Payload: payload, Sig: sig, Layer: "sha256:layer"}
	}
	aa := Authority{Name: "aa", Keys: []PublicKey{pubKey(t, "", k1)}}
	tests := []struct {
		name       string
		sigs       []Signature
		auth       Authority
		wantReason Reason
		wantDetail string
	}{
		{name: "docker-reference index.docker.io form", sigs: []Signature{signed(k1, "index.docker.io/library/alpine")}, auth: aa, wantReason: Verified},
		{name: "docker-reference docker.io form", sigs: []Signature{signed(k1, "docker.io/library/alpine")}, auth: aa, wantReason: Verified},
		{name: "docker-reference short form", sigs: []Signature{signed(k1, "alpine")}, auth: aa, wantReason: Verified},
		{name: "docker-reference with a tag", sigs: []Signature{signed(k1, "docker.io/library/alpine:3.11")}, auth: aa, wantReason: Verified},
		{name: "docker-reference of another Hub repository", sigs: []Signature{signed(k1, "library/busybox")}, auth: aa, wantReason: WrongImage, wantDetail: "(library/busybox)"},
		{name: "docker-reference of another registry", sigs: []Signature{signed(k1, "ghcr.io/library/alpine")}, auth: aa, wantReason: WrongImage},
		{name: "authority without keys", sigs: []Signature{signed(k1, "alpine")}, auth: Authority{Name: "empty"}, wantReason: UntrustedKey, wantDetail: "authority empty has no usable public key"},
		{name: "second key of authority verifies", sigs: []Signature{signed(k2, "alpine")}, auth: Authority{Name: "two", Keys: []PublicKey{pubKey(t, "a", k1), pubKey(t, "b", k2)}}, wantReason: Verified},
		{name: "no signatures", auth: aa, wantReason: NoSignature, wantDetail: "no signature found"},
		{name: "only malformed", sigs: []Signature{{Err: fmt.Errorf("%w: x", ErrMalformedSignature)}}, auth: aa, wantReason: MalformedSignature, wantDetail: "malformed signature: x"},
		{name: "signature bytes swapped between payloads", sigs: func() []Signature {
			a, b := signed(k1, "alpine"), signed(k1, "busybox")
			a.Sig, b.Sig = b.Sig, a.Sig
			return []Signature{a, b}
		}(), auth: aa, wantReason: UntrustedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Verify(alpine, tc.sigs, tc.auth)
			if got.Reason != tc.wantReason || got.OK != (tc.wantReason == Verified) || !strings.Contains(got.Detail, tc.wantDetail) {
				t.Errorf("Verify = %+v, want reason %v detail containing %q", got, tc.wantReason, tc.wantDetail)
			}
		})
	}
}

func TestReasonString(t *testing.T) {
	t.Parallel()
	for r := ReasonUnknown; r <= Verified; r++ {
		if s := r.String(); s == "" || strings.HasPrefix(s, "Reason(") {
			t.Errorf("Reason(%d).String() = %q", int(r), s)
		}
	}
	if got := Reason(99).String(); got != "Reason(99)" {
		t.Errorf("Reason(99).String() = %q", got)
	}
	if (Result{}).OK {
		t.Error("zero Result is OK")
	}
}

type failingSource struct{ err error }

func (f failingSource) Signatures(context.Context, name.Digest) ([]Signature, error) {
	return nil, f.err
}

func TestCheckPropagatesSourceErrors(t *testing.T) {
	t.Parallel()
	want := errors.New("registry down")
	img, _ := name.NewDigest("r.example/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	res, err := Check(context.Background(), failingSource{want}, img, Authority{Name: "a"})
	if !errors.Is(err, want) || res != nil {
		t.Errorf("Check = %v, %v; want nil, %v", res, err, want)
	}
}
