package attest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestSignatureTag(t *testing.T) {
	t.Parallel()
	hex := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		ref     string
		want    string
		wantErr string
	}{
		{name: "sha256", ref: "r.example/app@sha256:" + hex, want: "r.example/app:sha256-" + hex + ".sig"},
		{name: "docker hub", ref: "alpine@sha256:" + hex, want: "index.docker.io/library/alpine:sha256-" + hex + ".sig"},
		{name: "port and tag kept out", ref: "r.example:5000/team/app:1.0@sha256:" + hex, want: "r.example:5000/team/app:sha256-" + hex + ".sig"},
		{name: "sha512 refused", ref: "r.example/app@sha512:" + strings.Repeat("ab", 64), wantErr: "sha512 digests are not supported"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, err := name.NewDigest(tc.ref)
			if err != nil {
				t.Fatal(err)
			}
			tag, err := SignatureTag(d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("SignatureTag error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || tag.Name() != tc.want {
				t.Errorf("SignatureTag = %v, %v; want %s", tag, err, tc.want)
			}
		})
	}
}

func TestRegistrySourceOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		wantErr string
	}{
		{name: "defaults"},
		{name: "nil keychain", opts: []Option{WithKeychain(nil)}, wantErr: "nil keychain"},
		{name: "keychain twice", opts: []Option{anonymous(), anonymous()}, wantErr: "keychain set twice"},
		{name: "nil transport", opts: []Option{WithTransport(nil)}, wantErr: "nil transport"},
		{name: "zero limits", opts: []Option{WithLimits(0, 1)}, wantErr: "limits must be positive"},
		{name: "insecure registry with a path", opts: []Option{WithInsecureRegistries("r.example/app")}, wantErr: "not a registry host[:port]"},
		{name: "insecure registry", opts: []Option{WithInsecureRegistries("r.example:5000", "r2.example")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := NewRegistrySource(tc.opts...)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("NewRegistrySource error = %v, want %q", err, tc.wantErr)
			}
		})
	}

	s, err := NewRegistrySource(WithInsecureRegistries("r.example:5000"))
	if err != nil {
		t.Fatal(err)
	}
	for ref, scheme := range map[string]string{
		"r.example:5000/app@sha256:" + strings.Repeat("a", 64): "http",
		"r.example/app@sha256:" + strings.Repeat("a", 64):      "https",
	} {
		d, err := name.NewDigest(ref)
		if err != nil {
			t.Fatal(err)
		}
		tag, err := s.sigTag(d)
		if err != nil || tag.Context().Scheme() != scheme {
			t.Errorf("sigTag(%s) scheme = %s (%v), want %s", ref, tag.Context().Scheme(), err, scheme)
		}
	}
}

func TestSignaturesMissing(t *testing.T) {
	t.Parallel()
	host := newTestRegistry(t)
	src := newTestSource(t)
	img := pushRandomImage(t, mustRepo(t, host+"/app"))
	tests := []struct {
		name string
		img  name.Digest
	}{
		{name: "image without signatures", img: img},
		{name: "repository that does not exist", img: mustRepo(t, host+"/nothing").Digest(img.DigestStr())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sigs, err := src.Signatures(testCtx(t), tc.img)
			if err != nil || len(sigs) != 0 {
				t.Errorf("Signatures = %v, %v; want none, no error", sigs, err)
			}
		})
	}
}

// TestSignaturesRegistryErrors: anything but "not found" is an error naming
// the image and the request, never an empty list.
func TestSignaturesRegistryErrors(t *testing.T) {
	t.Parallel()
	status := func(code int, body string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if code == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(code)
			_, _ = w.Write([]byte(body))
		})
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closedHost := strings.TrimPrefix(closed.URL, "http://")
	closed.Close()

	tests := []struct {
		name    string
		handler http.Handler // nil: the closed server
		wantMsg []string
	}{
		{name: "server error 500", handler: status(http.StatusInternalServerError, ""), wantMsg: []string{"500 Internal Server Error"}},
		{name: "unauthorized 401", handler: status(http.StatusUnauthorized, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`), wantMsg: []string{"UNAUTHORIZED"}},
		{name: "forbidden 403 on the manifest", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"errors":[{"code":"DENIED","message":"no"}]}`))
		}), wantMsg: []string{"GET http://", "/manifests/sha256-", ".sig", "DENIED"}},
		{name: "closed server", wantMsg: []string{"connection refused"}},
		{name: "manifest list at the signature tag", handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/v2/" {
				return
			}
			w.Header().Set("Content-Type", string(types.OCIImageIndex))
			_, _ = w.Write([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
		}), wantMsg: []string{"has media type application/vnd.oci.image.index.v1+json, not an image manifest"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			host := closedHost
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				host = strings.TrimPrefix(srv.URL, "http://")
			}
			img := mustRepo(t, host+"/app").Digest("sha256:" + strings.Repeat("c", 64))
			sigs, err := newTestSource(t).Signatures(testCtx(t), img)
			if err == nil {
				t.Fatalf("Signatures = %v, nil; want an error", sigs)
			}
			if sigs != nil {
				t.Errorf("Signatures returned %v along with the error", sigs)
			}
			t.Logf("error: %v", err)
			for _, want := range append([]string{"fetching signatures for " + img.String() + ": ", host}, tc.wantMsg...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestSignaturesRespectsDeadline(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // a registry that never answers
		case <-r.Context().Done():
		case <-time.After(20 * time.Second):
		}
	}))
	t.Cleanup(srv.Close)
	img := mustRepo(t, strings.TrimPrefix(srv.URL, "http://")+"/app").Digest("sha256:" + strings.Repeat("c", 64))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := newTestSource(t).Signatures(ctx, img)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Signatures error = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Signatures took %v despite a 200ms deadline", d)
	}
}

func TestPushTwoKeys(t *testing.T) {
	t.Parallel()
	host := newTestRegistry(t)
	src := newTestSource(t)
	img := pushRandomImage(t, mustRepo(t, host+"/app"))
	k1, k2 := testKey(t, KindECDSAP256), testKey(t, KindEd25519)
	p1, s1 := signFor(t, k1, img.Context(), img.DigestStr(), "k1")
	p2, s2 := signFor(t, k2, img.Context(), img.DigestStr(), "k2")
	for _, ps := range [][2][]byte{{p1, s1}, {p2, s2}, {p1, s1}} { // the repeat is a no-op
		if err := Push(testCtx(t), img, ps[0], ps[1], anonymous()); err != nil {
			t.Fatalf("Push: %v", err)
		}
	}
	sigs, err := src.Signatures(testCtx(t), img)
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 {
		t.Fatalf("got %d signatures, want 2: %+v", len(sigs), sigs)
	}
	for _, s := range sigs {
		if s.Err != nil || !strings.HasPrefix(s.Layer, "sha256:") {
			t.Errorf("signature %+v", s)
		}
	}
	for _, a := range []Authority{
		{Name: "aa1", Keys: []PublicKey{pubKey(t, "k1", k1)}},
		{Name: "aa2", Keys: []PublicKey{pubKey(t, "k2", k2)}},
	} {
		if r := Verify(img, sigs, a); !r.OK || r.KeyID != a.Keys[0].ID {
			t.Errorf("Verify for %s = %+v", a.Name, r)
		}
	}

	// The manifest is what cosign writes: OCI media types, one
	// simple-signing layer per signature with its base64 annotation.
	tag, _ := SignatureTag(img)
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	var m v1.Manifest
	if err := json.Unmarshal(desc.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != types.OCIConfigJSON || len(m.Layers) != 2 {
		t.Fatalf("manifest = %s", desc.Manifest)
	}
	for i, want := range [][]byte{s1, s2} {
		l := m.Layers[i]
		if l.MediaType != SimpleSigningMediaType || l.Annotations[SignatureAnnotation] != base64.StdEncoding.EncodeToString(want) {
			t.Errorf("layer %d = %+v", i, l)
		}
	}
}

func TestSignaturesLayerHandling(t *testing.T) {
	t.Parallel()
	host := newTestRegistry(t)
	k1 := testKey(t, KindECDSAP256)
	big := strings.Repeat("x", 100)
	tests := []struct {
		name     string
		layers   func(img name.Digest) []rawLayer
		opts     []Option
		wantSigs int
		wantErrs []string // per returned signature, "" for none
		wantErr  string   // for the whole call
	}{
		{
			name: "other media types are skipped",
			layers: func(img name.Digest) []rawLayer {
				p, s := signFor(t, k1, img.Context(), img.DigestStr(), "")
				return []rawLayer{
					{payload: []byte("{}"), mediaType: "application/vnd.in-toto+json", annotations: map[string]string{SignatureAnnotation: "AA=="}},
					{payload: p, annotations: map[string]string{SignatureAnnotation: base64.StdEncoding.EncodeToString(s)}},
				}
			},
			wantErrs: []string{""},
		},
		{
			name: "missing and empty annotations",
			layers: func(name.Digest) []rawLayer {
				return []rawLayer{{payload: []byte("a")}, {payload: []byte("b"), annotations: map[string]string{SignatureAnnotation: ""}}}
			},
			wantErrs: []string{"layer has no dev.cosignproject.cosign/signature annotation", "signature annotation is empty"},
		},
		{
			name: "oversized payload",
			opts: []Option{WithLimits(10, 64)},
			layers: func(name.Digest) []rawLayer {
				return []rawLayer{{payload: []byte(big), annotations: map[string]string{SignatureAnnotation: "AA=="}}}
			},
			wantErrs: []string{"payload of 100 bytes is larger than the limit of 64"},
		},
		{
			name: "too many layers",
			opts: []Option{WithLimits(2, 1<<20)},
			layers: func(name.Digest) []rawLayer {
				l := rawLayer{payload: []byte("a"), annotations: map[string]string{SignatureAnnotation: "AA=="}}
				return []rawLayer{l, l, l}
			},
			wantErr: "holds 3 layers, more than the limit of 2 signatures",
		},
		{
			name: "same payload twice is read once and returned twice",
			layers: func(name.Digest) []rawLayer {
				return []rawLayer{
					{payload: []byte("same"), annotations: map[string]string{SignatureAnnotation: "AA=="}},
					{payload: []byte("same"), annotations: map[string]string{SignatureAnnotation: "AQ=="}},
				}
			},
			wantErrs: []string{"", ""},
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img := pushRandomImage(t, mustRepo(t, host+"/layers"+string(rune('a'+i))))
			writeRawSigManifest(t, img, tc.layers(img)...)
			sigs, err := newTestSource(t, tc.opts...).Signatures(testCtx(t), img)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Signatures error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != len(tc.wantErrs) {
				t.Fatalf("got %d signatures, want %d", len(sigs), len(tc.wantErrs))
			}
			for j, want := range tc.wantErrs {
				got := sigs[j].Err
				switch {
				case want == "" && got != nil:
					t.Errorf("signature %d: unexpected error %v", j, got)
				case want == "" && len(sigs[j].Payload) == 0:
					t.Errorf("signature %d: no payload", j)
				case want != "" && (!errors.Is(got, ErrMalformedSignature) || !strings.Contains(got.Error(), want)):
					t.Errorf("signature %d: error %v, want ErrMalformedSignature containing %q", j, got, want)
				}
			}
		})
	}
}

func TestPushRefusals(t *testing.T) {
	t.Parallel()
	host := newTestRegistry(t)
	img := pushRandomImage(t, mustRepo(t, host+"/app"))
	src := newTestSource(t, WithLimits(1, 1<<20))
	k := testKey(t, KindECDSAP256)
	p, s := signFor(t, k, img.Context(), img.DigestStr(), "")
	if err := src.Push(testCtx(t), img, p, nil); err == nil {
		t.Error("Push accepted an empty signature")
	}
	if err := src.Push(testCtx(t), img, p, s); err != nil {
		t.Fatal(err)
	}
	p2, s2 := signFor(t, k, img.Context(), img.DigestStr(), "other")
	if err := src.Push(testCtx(t), img, p2, s2); err == nil || !strings.Contains(err.Error(), "already holds 1 signatures, the limit") {
		t.Errorf("Push beyond the limit: %v", err)
	}
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	gone := mustRepo(t, strings.TrimPrefix(closed.URL, "http://")+"/app").Digest(img.DigestStr())
	if err := src.Push(testCtx(t), gone, p, s); err == nil || !strings.Contains(err.Error(), "pushing signature for "+gone.String()) {
		t.Errorf("Push to a closed server: %v", err)
	}
}
