package attest

import (
	"errors"
	"strings"
	"testing"
)

const testDigest = "sha256:4f3c2a1b0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a"

func TestNewPayload(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		repo  string
		keyID string
		want  string
	}{
		{
			name: "docker hub short name is written in full",
			repo: "alpine",
			want: `{"critical":{"identity":{"docker-reference":"index.docker.io/library/alpine"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"},"optional":{}}`,
		},
		{
			name:  "key id goes in optional",
			repo:  "registry.example:5000/team/app",
			keyID: "kms-key-1",
			want:  `{"critical":{"identity":{"docker-reference":"registry.example:5000/team/app"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"},"optional":{"kritis.grafeas.io/key-id":"kms-key-1"}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := NewPayload(mustRepo(t, tc.repo), testDigest, tc.keyID)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.want {
				t.Errorf("NewPayload =\n%s\nwant\n%s", b, tc.want)
			}
			p, err := ParsePayload(b)
			if err != nil {
				t.Fatalf("ParsePayload: %v", err)
			}
			if p.Type != TypeAtomic || p.Digest != testDigest || p.KeyID != tc.keyID || p.DockerReference != mustRepo(t, tc.repo).Name() {
				t.Errorf("ParsePayload = %+v", p)
			}
		})
	}
	for _, bad := range []string{"", "sha256:abc", "md5:" + strings.Repeat("a", 32)} {
		if _, err := NewPayload(mustRepo(t, "alpine"), bad, ""); !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("NewPayload(digest %q) error = %v, want ErrInvalidPayload", bad, err)
		}
	}
	if _, err := (Payload{Type: "other", DockerReference: "alpine", Digest: testDigest}).Marshal(); err == nil {
		t.Error("Marshal accepted an unknown type")
	}
	if _, err := (Payload{DockerReference: "alpine", Digest: testDigest, KeyID: "a", Optional: map[string]any{KeyIDAnnotation: "b"}}).Marshal(); err == nil {
		t.Error("Marshal accepted two key ids")
	}
}

func TestParsePayload(t *testing.T) {
	t.Parallel()
	critical := func(inner string) string { return `{"critical":{` + inner + `},"optional":null}` }
	good := `"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"` + testDigest + `"}`
	tests := []struct {
		name    string
		in      string
		wantErr string // "" = accepted
	}{
		{name: "atomic type", in: critical(good + `,"type":"atomic container signature"`)},
		{name: "cosign type", in: critical(good + `,"type":"cosign container image signature"`)},
		{name: "cosign annotations", in: `{"critical":{` + good + `,"type":"cosign container image signature"},"optional":{"a":"b","n":1}}`},
		{name: "sha512 digest", in: critical(`"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"sha512:` + strings.Repeat("ab", 64) + `"},"type":"atomic container signature"`)},
		{name: "docker-reference with tag", in: critical(`"identity":{"docker-reference":"r.example/app:1.0"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"`)},
		{name: "empty input", in: "", wantErr: "empty"},
		{name: "not JSON", in: "hello", wantErr: "not JSON"},
		{name: "JSON array", in: "[]", wantErr: "cannot unmarshal"},
		{name: "no critical", in: `{"optional":{}}`, wantErr: "no critical section"},
		{name: "critical null", in: `{"critical":null}`, wantErr: "no critical section"},
		{name: "no identity", in: critical(`"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"`), wantErr: "no critical.identity"},
		{name: "no image", in: critical(`"identity":{"docker-reference":"r.example/app"},"type":"atomic container signature"`), wantErr: "no critical.image"},
		{name: "unknown type", in: critical(good + `,"type":"https://in-toto.io/Statement/v1"`), wantErr: `type "https://in-toto.io/Statement/v1"`},
		{name: "no type", in: critical(good), wantErr: `type ""`},
		{name: "empty docker-reference", in: critical(`"identity":{"docker-reference":""},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"`), wantErr: "empty docker-reference"},
		{name: "upper case docker-reference", in: critical(`"identity":{"docker-reference":"r.example/App"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"`), wantErr: "docker-reference"},
		{name: "digest 63 hex", in: critical(`"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"` + testDigest[:len(testDigest)-1] + `"},"type":"atomic container signature"`), wantErr: "63 hex characters, want 64"},
		{name: "digest upper case", in: critical(`"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"` + strings.ToUpper(testDigest[:7]) + strings.ToUpper(testDigest[7:]) + `"},"type":"atomic container signature"`), wantErr: "digest algorithm"},
		{name: "digest upper case hex", in: critical(`"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"sha256:` + strings.ToUpper(testDigest[7:]) + `"},"type":"atomic container signature"`), wantErr: "not lower-case hex"},
		{name: "digest sha1", in: critical(`"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"sha1:` + strings.Repeat("a", 40) + `"},"type":"atomic container signature"`), wantErr: `digest algorithm "sha1"`},
		{name: "digest without algorithm", in: critical(`"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"abc"},"type":"atomic container signature"`), wantErr: "not <algorithm>:<hex>"},
		{name: "unknown critical field", in: critical(good + `,"type":"atomic container signature","extra":1`), wantErr: "unknown field"},
		{name: "unknown top-level field", in: `{"critical":{` + good + `,"type":"atomic container signature"},"x":1}`, wantErr: "unknown field"},
		{name: "trailing data", in: critical(good+`,"type":"atomic container signature"`) + `{}`, wantErr: "trailing data"},
		{name: "key id not a string", in: `{"critical":{` + good + `,"type":"atomic container signature"},"optional":{"kritis.grafeas.io/key-id":7}}`, wantErr: "is not a string"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParsePayload([]byte(tc.in))
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("ParsePayload: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPayload) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParsePayload error = %v, want ErrInvalidPayload containing %q", err, tc.wantErr)
			}
		})
	}
}

func FuzzParsePayload(f *testing.F) {
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"r.example/app"},"image":{"docker-manifest-digest":"` + testDigest + `"},"type":"atomic container signature"},"optional":{"kritis.grafeas.io/key-id":"k"}}`))
	f.Add([]byte(`{"critical":{"identity":{"docker-reference":"alpine:3.11"},"image":{"docker-manifest-digest":"sha512:00"},"type":"cosign container image signature"},"optional":null}`))
	f.Add([]byte(`{"critical":null}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParsePayload(b)
		if err != nil {
			if !errors.Is(err, ErrInvalidPayload) {
				t.Fatalf("error %v does not wrap ErrInvalidPayload", err)
			}
			return
		}
		// Whatever parses must re-marshal and parse to the same claim.
		again, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of parsed payload: %v", err)
		}
		q, err := ParsePayload(again)
		if err != nil || q.DockerReference != p.DockerReference || q.Digest != p.Digest || q.KeyID != p.KeyID || q.Type != p.Type {
			t.Fatalf("round trip: %+v, %v; want %+v", q, err, p)
		}
	})
}

func FuzzDecodePublicKeyData(f *testing.F) {
	f.Add("")
	f.Add("LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUZrd0V3WUhLb1pJemowQ0FRWUlLb1pJemowREFRY0RRZ0FFCi0tLS0tRU5EIFBVQkxJQyBLRVktLS0tLQo=")
	f.Add("-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n")
	f.Add("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
	f.Add("not base64 at all")
	f.Add("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxsBNBGAAAAABCAC=\n=AAAA\n-----END PGP PUBLIC KEY BLOCK-----\n")
	f.Add("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nxcBN\n-----END PGP PRIVATE KEY BLOCK-----\n")
	f.Fuzz(func(t *testing.T, s string) {
		// The same untrusted text may arrive as an OpenPGP key, or as a
		// PKIX key with a signature algorithm.
		if k, err := NewPGPKey("", s); err == nil {
			_ = VerifyRaw(k.Key, []byte("p"), []byte("s"))
		}
		if k, err := NewPKIXKey("", s, "ECDSA_P256_SHA256"); err == nil {
			_ = k.VerifyRaw([]byte("p"), []byte("s"))
		}
		k, err := DecodePublicKeyData(s)
		if err == nil {
			if cerr := CheckPublicKey(k); cerr != nil {
				t.Fatalf("accepted a key CheckPublicKey refuses: %v", cerr)
			}
			// A key that was accepted must be usable without panicking.
			_ = VerifyRaw(k, []byte("p"), []byte("s"))
		}
	})
}
