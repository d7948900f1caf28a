package attest

import (
	"context"
	"crypto"
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Keys are made once per test binary: RSA 4096 takes seconds to generate.
// Each kind is made on first use, so tests that need only ECDSA don't wait.
var testKeyMakers = map[string]func() crypto.Signer{}

func init() {
	for _, kind := range append(KeyKinds(), "k2") {
		gen := kind
		if kind == "k2" {
			gen = KindECDSAP256
		}
		testKeyMakers[kind] = sync.OnceValue(func() crypto.Signer {
			k, err := GenerateKey(gen)
			if err != nil {
				panic(err)
			}
			return k
		})
	}
}

// testKey returns the shared key of a kind; "k2" is a second ECDSA P-256
// key, the one no authority trusts.
func testKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	mk, ok := testKeyMakers[kind]
	if !ok {
		t.Fatalf("no test key of kind %q", kind)
	}
	return mk()
}

// quietBackoff makes go-containerregistry's retries fast in tests.
var quietBackoff = remote.WithRetryBackoff(remote.Backoff{Duration: time.Millisecond, Factor: 1, Steps: 2})

// newTestRegistry starts an in-process registry and returns its host:port.
func newTestRegistry(t testing.TB) string {
	t.Helper()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func anonymous() Option { return WithKeychain(authn.NewMultiKeychain()) }

func newTestSource(t testing.TB, opts ...Option) *RegistrySource {
	t.Helper()
	s, err := NewRegistrySource(append([]Option{anonymous(), WithRemoteOptions(quietBackoff)}, opts...)...)
	if err != nil {
		t.Fatalf("NewRegistrySource: %v", err)
	}
	return s
}

func mustRepo(t testing.TB, s string) name.Repository {
	t.Helper()
	r, err := name.NewRepository(s)
	if err != nil {
		t.Fatalf("NewRepository(%q): %v", s, err)
	}
	return r
}

// pushRandomImage writes a small random image to repo and returns it by
// digest.
func pushRandomImage(t testing.TB, repo name.Repository) name.Digest {
	t.Helper()
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(repo.Tag("latest"), img); err != nil {
		t.Fatalf("writing image to %s: %v", repo, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return repo.Digest(d.String())
}

// signFor makes a payload for repo@digest, signs it with key and returns
// both.
func signFor(t testing.TB, key crypto.Signer, repo name.Repository, digest, keyID string) (payload, sig []byte) {
	t.Helper()
	payload, err := NewPayload(repo, digest, keyID)
	if err != nil {
		t.Fatalf("NewPayload: %v", err)
	}
	sig, err = SignRaw(key, payload)
	if err != nil {
		t.Fatalf("SignRaw: %v", err)
	}
	return payload, sig
}

func pubKey(t testing.TB, id string, k crypto.Signer) PublicKey {
	t.Helper()
	return PublicKey{ID: id, Key: k.Public()}
}

// rawLayer is a signature layer written as-is, to build manifests our
// Push would refuse to write.
type rawLayer struct {
	payload     []byte
	mediaType   types.MediaType
	annotations map[string]string
}

func writeRawSigManifest(t testing.TB, img name.Digest, layers ...rawLayer) {
	t.Helper()
	tag, err := SignatureTag(img)
	if err != nil {
		t.Fatal(err)
	}
	var base v1.Image = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	for _, l := range layers {
		mt := l.mediaType
		if mt == "" {
			mt = SimpleSigningMediaType
		}
		base, err = mutate.Append(base, mutate.Addendum{Layer: static.NewLayer(l.payload, mt), Annotations: l.annotations})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := remote.Write(tag, base); err != nil {
		t.Fatalf("writing %s: %v", tag, err)
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
