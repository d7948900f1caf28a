package resolve

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

func TestCredentialKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		loc, want string
	}{
		{"registry.example.com", "registry.example.com"},
		{"https://registry.example.com", "registry.example.com"},
		{"http://registry.example.com:5000/", "registry.example.com:5000"},
		{"https://index.docker.io/v1/", "index.docker.io"},
		{"registry.example.com/v2/team", "registry.example.com/team"},
		{"registry.example.com/team/app", "registry.example.com/team/app"},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			t.Parallel()
			got, ok := credentialKey(tt.loc)
			if !ok || got != tt.want {
				t.Fatalf("credentialKey(%q) = %q, %v; want %q", tt.loc, got, ok, tt.want)
			}
		})
	}
}

func TestKeyMatches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, image string
		want       bool
	}{
		{"registry.example.com", "registry.example.com/app", true},
		{"registry.example.com", "registry.example.com:5000/app", false},
		{"registry.example.com:5000", "registry.example.com:5000/app", true},
		{"registry.example.com:5000", "registry.example.com/app", false},
		{"*.example.com", "registry.example.com/app", true},
		{"*.example.com", "example.com/app", false},
		{"*.example.com", "a.registry.example.com/app", false},
		{"registry.example.com/team", "registry.example.com/team/app", true},
		{"registry.example.com/team", "registry.example.com/other/app", false},
		{"registry.example.com", "registry.example.org/app", false},
		{"127.0.0.1:5000", "127.0.0.1:5000/app", true},
	}
	for _, tt := range tests {
		t.Run(tt.key+" "+tt.image, func(t *testing.T) {
			t.Parallel()
			if got := keyMatches(tt.key, tt.image); got != tt.want {
				t.Fatalf("keyMatches(%q, %q) = %v, want %v", tt.key, tt.image, got, tt.want)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	k := &Keyring{entries: []entry{
		{key: "r.example.com", source: "host"},
		{key: "r.example.com/team", source: "team"},
		{key: "r.example.com/team/app", source: "app"},
		{key: "r.example.com", source: "host again"},
		{key: "index.docker.io", source: "hub"},
		{key: "docker.io/library", source: "hub library"},
	}}
	tests := []struct {
		image string
		want  []string
	}{
		{"r.example.com/team/app:1", []string{"app", "team", "host", "host again"}},
		{"r.example.com/other:1", []string{"host", "host again"}},
		{"q.example.com/team/app:1", nil},
		{"alpine:3.11", []string{"hub library"}},
		{"someone/app:1", []string{"hub"}},
		{"index.docker.io/someone/app:1", []string{"hub"}},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			t.Parallel()
			tag, err := name.NewTag(tt.image)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range k.lookup(kubeletImageName(tag.Context())) {
				got = append(got, e.source)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("lookup(%s) = %q, want %q", tt.image, got, tt.want)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "https", Host: "r.example.com", Path: "/v2/"}}
	expired, cancel := context.WithTimeout(context.Background(), 0)
	defer cancel()
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		wantKind error
		wantWhy  string
	}{
		{name: "401", err: &transport.Error{StatusCode: 401, Request: req}, wantKind: ErrAuth},
		{name: "403", err: &transport.Error{StatusCode: 403, Request: req}, wantKind: ErrAuth},
		{name: "UNAUTHORIZED code", err: &transport.Error{StatusCode: 400, Errors: []transport.Diagnostic{{Code: transport.UnauthorizedErrorCode}}}, wantKind: ErrAuth},
		{name: "404", err: &transport.Error{StatusCode: 404}, wantKind: ErrNotFound},
		{name: "MANIFEST_UNKNOWN", err: &transport.Error{StatusCode: 400, Errors: []transport.Diagnostic{{Code: transport.ManifestUnknownErrorCode}}}, wantKind: ErrNotFound},
		{name: "500", err: &transport.Error{StatusCode: 500}, wantKind: ErrRegistry},
		{name: "429", err: &transport.Error{StatusCode: 429}, wantKind: ErrRegistry},
		{name: "connection refused", err: &url.Error{Op: "Get", URL: "https://r", Err: &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}},
			wantKind: ErrUnreachable, wantWhy: "connection refused"},
		{name: "connection reset", err: &net.OpError{Op: "read", Err: syscall.ECONNRESET}, wantKind: ErrUnreachable, wantWhy: "connection reset"},
		{name: "DNS", err: &url.Error{Op: "Get", URL: "https://r", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Name: "r.example.com", Err: "no such host", IsNotFound: true}}},
			wantKind: ErrUnreachable, wantWhy: "DNS lookup of r.example.com failed"},
		{name: "DNS timeout", err: &net.DNSError{Name: "r.example.com", Err: "i/o timeout", IsTimeout: true}, wantKind: ErrTimeout},
		{name: "unknown CA", err: &url.Error{Op: "Get", URL: "https://r", Err: x509.UnknownAuthorityError{}},
			wantKind: ErrUnreachable, wantWhy: "certificate signed by an unknown authority"},
		{name: "wrong host name", err: x509.HostnameError{Certificate: &x509.Certificate{}, Host: "r"},
			wantKind: ErrUnreachable, wantWhy: "not valid for this host name"},
		{name: "plain HTTP on a TLS client", err: errors.New("http: server gave HTTP response to HTTPS client"),
			wantKind: ErrUnreachable, wantWhy: "does not speak TLS"},
		{name: "deadline in the error", err: fmt.Errorf("get: %w", context.DeadlineExceeded), wantKind: ErrTimeout},
		{name: "context expired", ctx: expired, err: errors.New("anything"), wantKind: ErrTimeout},
		{name: "canceled", err: fmt.Errorf("get: %w", context.Canceled), wantKind: context.Canceled},
		{name: "anything else", err: errors.New("response did not include Content-Type header"), wantKind: ErrRegistry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			kind, why := classify(ctx, tt.err)
			if kind != tt.wantKind {
				t.Errorf("kind %v, want %v", kind, tt.wantKind)
			}
			if tt.wantWhy != "" && !strings.Contains(why, tt.wantWhy) {
				t.Errorf("why %q, want it to say %q", why, tt.wantWhy)
			}
		})
	}
}

func TestErrorUnwrap(t *testing.T) {
	t.Parallel()
	cause := &transport.Error{StatusCode: 401}
	err := error(&Error{Kind: ErrAuth, Image: "r/app:1", Registry: "r", Detail: "authentication to r failed", Err: cause})
	var terr *transport.Error
	if !errors.Is(err, ErrAuth) || errors.Is(err, ErrNotFound) || !errors.As(err, &terr) {
		t.Fatalf("errors.Is/As do not see through %v", err)
	}
	if got, want := err.Error(), "resolving r/app:1: authentication to r failed: unexpected status code 401 Unauthorized"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
}

// The zero-value Resolver pieces must not be needed: a nil Keyring works.
func TestNilKeyring(t *testing.T) {
	t.Parallel()
	var k *Keyring
	if k.lookup("r/app") != nil || k.notesSuffix() != "" || k.whereLooked() == "" {
		t.Fatal("nil Keyring misbehaves")
	}
}
