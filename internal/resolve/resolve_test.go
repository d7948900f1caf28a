package resolve

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const (
	user     = "alice"
	password = "s3cret"
)

// noKeychain keeps the test machine's docker config out of the tests.
var noKeychain = authn.NewMultiKeychain()

func quietRegistry() http.Handler {
	return registry.New(registry.Logger(log.New(io.Discard, "", 0)))
}

// basicAuth lets in requests carrying alice's password; "bob" (any
// password) is authenticated but denied (403); anyone else gets a 401
// Basic challenge.
func basicAuth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		switch {
		case ok && u == user && p == password:
			next.ServeHTTP(w, r)
		case ok && u == "bob":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":[{"code":"DENIED","message":"access denied"}]}`)
		default:
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		}
	})
}

// serve starts h and returns its host:port.
func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

var alice = remote.WithAuth(&authn.Basic{Username: user, Password: password})

// pushImage writes a random image to ref and returns its digest.
func pushImage(t *testing.T, ref string, opts ...remote.Option) v1.Hash {
	t.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(mustTag(t, ref), img, opts...); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dockerConfigSecret is a kubernetes.io/dockerconfigjson pull secret.
func dockerConfigSecret(ns, secretName, registryKey, u, p string) *corev1.Secret {
	b, err := json.Marshal(map[string]any{"auths": map[string]any{
		registryKey: map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(u + ":" + p))},
	}})
	if err != nil {
		panic(err)
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: secretName},
		Type:       corev1.SecretTypeDockerConfigJson,
		Data:       map[string][]byte{corev1.DockerConfigJsonKey: b},
	}
}

func serviceAccount(ns, saName string, secrets ...string) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: saName}}
	for _, s := range secrets {
		sa.ImagePullSecrets = append(sa.ImagePullSecrets, corev1.LocalObjectReference{Name: s})
	}
	return sa
}

func newResolver(t *testing.T, o Options) *Resolver {
	t.Helper()
	if o.Keychain == nil {
		o.Keychain = noKeychain
	}
	r, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// checkResult checks a Resolve outcome: the digest, or the error's kind
// and message, and that the two never come together.
func checkResult(t *testing.T, got name.Digest, err error, want v1.Hash, wantKind error, wantMsg ...string) {
	t.Helper()
	if err != nil {
		t.Logf("error: %v", err)
		if got != (name.Digest{}) {
			t.Errorf("digest %v returned with error %v", got, err)
		}
		var rerr *Error
		if !errors.As(err, &rerr) {
			t.Errorf("error %v (%T) is not an *Error", err, err)
		}
	}
	if wantKind == nil {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		if got.DigestStr() != want.String() {
			t.Fatalf("got digest %s, want %s", got.DigestStr(), want)
		}
		return
	}
	if !errors.Is(err, wantKind) {
		t.Fatalf("got error %v, want kind %v", err, wantKind)
	}
	for _, m := range wantMsg {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not say %q", err, m)
		}
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	pub := serve(t, quietRegistry())
	priv := serve(t, basicAuth(quietRegistry()))

	app := pushImage(t, pub+"/app:1.0")
	idx, err := random.Index(256, 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(mustTag(t, pub+"/multi:1"), idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	secret := pushImage(t, priv+"/team/app:1.0", alice)

	dockercfg, _ := json.Marshal(map[string]any{priv: map[string]string{"username": user, "password": password}})
	kube := fake.NewClientset(
		dockerConfigSecret("team-a", "good", priv, user, password),
		dockerConfigSecret("team-a", "wrong", priv, user, "nope"),
		dockerConfigSecret("team-a", "bob", priv, "bob", "whatever"),
		dockerConfigSecret("team-a", "other-registry", "registry.example.com", user, password),
		dockerConfigSecret("team-a", "by-path", "https://"+priv+"/team", user, password),
		dockerConfigSecret("team-a", "other-path", priv+"/elsewhere", user, password),
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "legacy"},
			Type:       corev1.SecretTypeDockercfg,
			Data:       map[string][]byte{corev1.DockerConfigKey: dockercfg},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "opaque"},
			Type:       corev1.SecretTypeOpaque,
			Data:       map[string][]byte{"password": []byte(password)},
		},
		&corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "broken"},
			Type:       corev1.SecretTypeDockerConfigJson,
			Data:       map[string][]byte{corev1.DockerConfigJsonKey: []byte(`{"auths":`)},
		},
		serviceAccount("team-a", "default"),
		serviceAccount("team-a", "builder", "good"),
		serviceAccount("team-a", "stale", "missing", "good"),
		dockerConfigSecret("team-b", "good-b", priv, user, password),
		serviceAccount("team-b", "default", "good-b"),
	)
	r := newResolver(t, Options{Kube: kube})

	tests := []struct {
		name     string
		image    string
		creds    Credentials
		want     v1.Hash
		wantKind error
		wantMsg  []string
	}{
		{name: "tag resolves to its manifest digest", image: pub + "/app:1.0", want: app},
		{name: "index tag resolves to the index digest", image: pub + "/multi:1", want: idxDigest},
		{name: "public image with namespace credentials", image: pub + "/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"good"}}, want: app},
		{name: "unknown tag", image: pub + "/app:nope", wantKind: ErrNotFound,
			wantMsg: []string{`tag "nope" not found`, pub + "/app"}},
		{name: "unknown repository", image: pub + "/nothing:1.0", wantKind: ErrNotFound,
			wantMsg: []string{"repository " + pub + "/nothing not found"}},
		{name: "private: pod pull secret", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"good"}}, want: secret},
		{name: "private: legacy dockercfg pull secret", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"legacy"}}, want: secret},
		{name: "private: pull secret keyed by repository path", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"other-path", "by-path"}}, want: secret},
		{name: "private: service account pull secret", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ServiceAccount: "builder"}, want: secret},
		{name: "private: default service account pull secret", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-b"}, want: secret},
		{name: "private: a missing pull secret is skipped", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"missing", "good"}}, want: secret},
		{name: "private: a stale secret before the good one", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"wrong", "good"}}, want: secret},
		{name: "private: service account with a missing secret", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ServiceAccount: "stale"}, want: secret},
		{name: "private: no credentials", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a"}, wantKind: ErrAuth,
			wantMsg: []string{"authentication to " + priv + " failed: no credentials found for " + priv,
				"no pull secrets on the pod nor on its service account team-a/default", "401"}},
		{name: "private: no namespace, no credentials", image: priv + "/team/app:1.0",
			wantKind: ErrAuth, wantMsg: []string{"authentication to " + priv + " failed"}},
		{name: "private: wrong password", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"wrong"}}, wantKind: ErrAuth,
			wantMsg: []string{"authentication to " + priv + " failed with the credentials of pull secret team-a/wrong"}},
		{name: "private: authenticated but denied", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"bob"}}, wantKind: ErrAuth,
			wantMsg: []string{"pull secret team-a/bob", "403 Forbidden"}},
		{name: "private: secret for another registry", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"other-registry"}}, wantKind: ErrAuth,
			wantMsg: []string{"no credentials found", "none in pull secrets other-registry of namespace team-a"}},
		{name: "private: secret of another namespace is not used", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"good-b"}}, wantKind: ErrAuth,
			wantMsg: []string{"no credentials found", "pull secret team-a/good-b not found"}},
		{name: "private: pod secrets replace the service account's", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ServiceAccount: "builder", ImagePullSecrets: []string{"wrong"}}, wantKind: ErrAuth,
			wantMsg: []string{"pull secret team-a/wrong"}},
		{name: "private: missing service account", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ServiceAccount: "ghost"}, wantKind: ErrAuth,
			wantMsg: []string{"its service account team-a/ghost does not exist"}},
		{name: "private: opaque secret ignored", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"opaque"}}, wantKind: ErrAuth,
			wantMsg: []string{"pull secret team-a/opaque ignored"}},
		{name: "malformed pull secret", image: priv + "/team/app:1.0",
			creds: Credentials{Namespace: "team-a", ImagePullSecrets: []string{"broken", "good"}}, wantKind: ErrCredentials,
			wantMsg: []string{"pull secret team-a/broken is malformed"}},
		{name: "secrets without a namespace", image: priv + "/team/app:1.0",
			creds: Credentials{ImagePullSecrets: []string{"good"}}, wantKind: ErrCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Resolve(t.Context(), mustTag(t, tt.image), tt.creds)
			checkResult(t, got, err, tt.want, tt.wantKind, tt.wantMsg...)
			if err == nil && got.Context().String() != mustTag(t, tt.image).Context().String() {
				t.Errorf("digest %v is not in the tag's repository", got)
			}
		})
	}
}

func TestResolveWithKeyring(t *testing.T) {
	t.Parallel()
	priv := serve(t, basicAuth(quietRegistry()))
	a := pushImage(t, priv+"/a:1", alice)
	b := pushImage(t, priv+"/b:1", alice)
	var gets int
	var mu sync.Mutex
	kube := fake.NewClientset(dockerConfigSecret("ns", "good", priv, user, password))
	kube.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		mu.Lock()
		gets++
		mu.Unlock()
		return false, nil, nil
	})
	r := newResolver(t, Options{Kube: kube})
	k, err := r.Keyring(t.Context(), Credentials{Namespace: "ns", ImagePullSecrets: []string{"good"}})
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]v1.Hash{priv + "/a:1": a, priv + "/b:1": b} {
		got, err := r.ResolveWith(t.Context(), mustTag(t, tag), k)
		checkResult(t, got, err, want, nil)
	}
	if gets != 1 {
		t.Errorf("read the secret %d times, want once", gets)
	}
}

func TestKeychainFallback(t *testing.T) {
	t.Parallel()
	priv := serve(t, basicAuth(quietRegistry()))
	want := pushImage(t, priv+"/app:1", alice)
	tests := []struct {
		name     string
		keychain authn.Keychain
		creds    Credentials
		wantKind error
		wantMsg  []string
	}{
		{name: "hook credentials", keychain: staticKeychain{auth: &authn.Basic{Username: user, Password: password}}},
		{name: "pull secret first, then hook credentials", creds: Credentials{Namespace: "ns", ImagePullSecrets: []string{"wrong"}},
			keychain: staticKeychain{auth: &authn.Basic{Username: user, Password: password}}},
		{name: "wrong hook credentials", keychain: staticKeychain{auth: &authn.Basic{Username: user, Password: "x"}},
			wantKind: ErrAuth, wantMsg: []string{"authentication to " + priv + " failed with the hook's own credentials"}},
		{name: "both wrong", creds: Credentials{Namespace: "ns", ImagePullSecrets: []string{"wrong"}},
			keychain: staticKeychain{auth: &authn.Basic{Username: user, Password: "x"}},
			wantKind: ErrAuth, wantMsg: []string{"each of the 2 credentials tried (pull secret ns/wrong, the hook's own credentials): HEAD", "; HEAD"}},
		{name: "keychain failure", keychain: staticKeychain{err: errors.New("credential helper crashed")},
			wantKind: ErrCredentials, wantMsg: []string{"credential helper crashed"}},
	}
	kube := fake.NewClientset(dockerConfigSecret("ns", "wrong", priv, user, "nope"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newResolver(t, Options{Kube: kube, Keychain: tt.keychain})
			got, err := r.Resolve(t.Context(), mustTag(t, priv+"/app:1"), tt.creds)
			checkResult(t, got, err, want, tt.wantKind, tt.wantMsg...)
		})
	}
}

type staticKeychain struct {
	auth authn.Authenticator
	err  error
}

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) {
	return k.auth, k.err
}

func TestKubernetesAPIFailure(t *testing.T) {
	t.Parallel()
	pub := serve(t, quietRegistry())
	pushImage(t, pub+"/app:1")
	kube := fake.NewClientset()
	kube.PrependReactor("get", "secrets", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "secrets"}, "pull", errors.New("RBAC says no"))
	})
	r := newResolver(t, Options{Kube: kube})
	got, err := r.Resolve(t.Context(), mustTag(t, pub+"/app:1"), Credentials{Namespace: "ns", ImagePullSecrets: []string{"pull"}})
	checkResult(t, got, err, v1.Hash{}, ErrCredentials, "resolving "+pub+"/app:1: reading pull secret ns/pull", "forbidden")
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(quietRegistry())
	host := strings.TrimPrefix(srv.URL, "http://")
	srv.Close()
	r := newResolver(t, Options{})
	got, err := r.Resolve(t.Context(), mustTag(t, host+"/app:1.0"), Credentials{})
	checkResult(t, got, err, v1.Hash{}, ErrUnreachable, "registry "+host+" unreachable: connection refused")
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	slow := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}))
	tests := []struct {
		name    string
		timeout time.Duration
		ctx     time.Duration
	}{
		{name: "caller deadline", ctx: 200 * time.Millisecond},
		{name: "resolver timeout", timeout: 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newResolver(t, Options{Timeout: tt.timeout})
			ctx := t.Context()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			start := time.Now()
			got, err := r.Resolve(ctx, mustTag(t, slow+"/app:1.0"), Credentials{})
			checkResult(t, got, err, v1.Hash{}, ErrTimeout, "registry "+slow+" did not answer in time")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not wrap context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

// TestHeadWithoutDigest: a registry (or proxy) whose HEAD answer lacks the
// digest header is asked again with GET.
func TestHeadWithoutDigest(t *testing.T) {
	t.Parallel()
	reg := quietRegistry()
	var strip atomic.Bool
	host := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strip.Load() && r.Method == http.MethodHead && strings.Contains(r.URL.Path, "/manifests/") {
			w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
			w.Header().Set("Content-Length", "10")
			w.WriteHeader(http.StatusOK)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	want := pushImage(t, host+"/app:1.0")
	strip.Store(true)
	r := newResolver(t, Options{})
	got, err := r.Resolve(t.Context(), mustTag(t, host+"/app:1.0"), Credentials{})
	checkResult(t, got, err, want, nil)
}

func TestTLS(t *testing.T) {
	t.Parallel()
	srv := httptest.NewUnstartedServer(quietRegistry())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the failed handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	want := pushImage(t, addr+"/app:1.0", remote.WithTransport(srv.Client().Transport))

	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	// httptest's certificate is valid for example.com; a name that is not
	// loopback makes go-containerregistry use HTTPS only.
	host := "example.com:" + port
	tests := []struct {
		name     string
		caFile   string
		wantKind error
		wantMsg  []string
	}{
		{name: "private CA trusted", caFile: caFile},
		{name: "unknown CA", wantKind: ErrUnreachable, wantMsg: []string{"registry " + host + " unreachable: TLS certificate check failed: certificate signed by an unknown authority"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newResolver(t, Options{CAFile: tt.caFile})
			r.transport.Proxy = nil
			r.transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, addr)
			}
			got, err := r.Resolve(t.Context(), mustTag(t, host+"/app:1.0"), Credentials{})
			checkResult(t, got, err, want, tt.wantKind, tt.wantMsg...)
		})
	}
}

// TestConcurrent resolves 40 repositories at once, each with the pull
// secret of its own namespace; each must get its own digest.
func TestConcurrent(t *testing.T) {
	t.Parallel()
	const n = 40
	priv := serve(t, basicAuth(quietRegistry()))
	var objs []runtime.Object
	want := make([]v1.Hash, n)
	for i := range n {
		want[i] = pushImage(t, fmt.Sprintf("%s/app-%d:1.0", priv, i), alice)
		objs = append(objs, dockerConfigSecret(fmt.Sprintf("ns-%d", i), "pull", priv, user, password))
	}
	r := newResolver(t, Options{Kube: fake.NewClientset(objs...)})
	got := make([]name.Digest, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			got[i], errs[i] = r.Resolve(t.Context(), mustTag(t, fmt.Sprintf("%s/app-%d:1.0", priv, i)),
				Credentials{Namespace: fmt.Sprintf("ns-%d", i), ImagePullSecrets: []string{"pull"}})
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("app-%d: %v", i, errs[i])
			continue
		}
		if got[i].DigestStr() != want[i].String() || got[i].RepositoryStr() != fmt.Sprintf("app-%d", i) {
			t.Errorf("app-%d: got %v, want digest %s", i, got[i], want[i])
		}
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	notPEM := filepath.Join(t.TempDir(), "bad.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{name: "zero value"},
		{name: "insecure registries", opts: Options{InsecureRegistries: []string{"registry.local:5000", "docker.io"}}},
		{name: "insecure registry with a path", opts: Options{InsecureRegistries: []string{"registry.local/team"}}, wantErr: "not a registry host[:port]"},
		{name: "empty insecure registry", opts: Options{InsecureRegistries: []string{""}}, wantErr: "not a registry host[:port]"},
		{name: "negative timeout", opts: Options{Timeout: -time.Second}, wantErr: "negative timeout"},
		{name: "missing CA file", opts: Options{CAFile: "/nonexistent/ca.pem"}, wantErr: "reading CA file"},
		{name: "CA file without certificates", opts: Options{CAFile: notPEM}, wantErr: "holds no PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := New(tt.opts)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("got error %v, want one saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestInsecureRegistry(t *testing.T) {
	t.Parallel()
	r := newResolver(t, Options{InsecureRegistries: []string{"registry.local:5000", "docker.io"}})
	for image, want := range map[string]string{
		"registry.local:5000/app:1": "http",
		"registry.local/app:1":      "https",
		"alpine:3.11":               "http",
		"quay.io/app:1":             "https",
	} {
		got, err := r.reachable(mustTag(t, image))
		if err != nil {
			t.Fatal(err)
		}
		if got.Scheme() != want {
			t.Errorf("%s: scheme %s, want %s", image, got.Scheme(), want)
		}
		if orig := mustTag(t, image); got.Name() != orig.Name() {
			t.Errorf("%s: became %s", image, got)
		}
	}
}
