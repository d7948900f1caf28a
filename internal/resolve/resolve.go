package resolve

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultTimeout bounds one resolution when Options.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// retryBackoff is short on purpose: go-containerregistry's default sleeps
// 1 s then 3 s between retries of a 5xx or a reset connection, without
// looking at the context, which would spend an admission request's budget.
var retryBackoff = remote.Backoff{Duration: 100 * time.Millisecond, Factor: 3, Jitter: 0.1, Steps: 3}

// Options configures a Resolver. The zero value works: no pull secrets, the
// hook's docker config, system TLS roots.
type Options struct {
	// Kube reads pull secrets and service accounts (get only, per call).
	// Nil: pull secrets are not read.
	Kube kubernetes.Interface
	// ServiceAccounts, when set, reads service accounts instead of Kube,
	// e.g. from an informer cache: most pods name no pull secret, and
	// their service account is then the only object read per request.
	ServiceAccounts ServiceAccountGetter
	// Keychain is tried after the pull secrets: the hook's own
	// credentials. Nil means authn.DefaultKeychain (the docker config of
	// the hook's process); authn.NewMultiKeychain() gives none.
	Keychain authn.Keychain
	// InsecureRegistries are spoken to over plain HTTP ("host" or
	// "host:port", as image references spell them). Registries on
	// localhost, loopback and private (RFC 1918) addresses already fall
	// back to plain HTTP, as go-containerregistry decides.
	InsecureRegistries []string
	// CAFile is a PEM bundle of CA certificates trusted for registries in
	// addition to the system's roots.
	CAFile string
	// RootCAs replaces the system roots; it may not be set with CAFile.
	RootCAs *x509.CertPool
	// Timeout bounds one call (credentials and registry requests) unless
	// the context's deadline is sooner. Zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is added to the User-Agent header sent to registries.
	UserAgent string
	// Log receives debug messages (V(1)): resolutions and skipped
	// credentials, never a secret. The zero Logger discards them.
	Log logr.Logger
}

// Resolver resolves tags to digests. It keeps no per-call state and is safe
// for concurrent use.
// ServiceAccountGetter reads one service account.
type ServiceAccountGetter interface {
	Get(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error)
}

type clientServiceAccounts struct{ kube kubernetes.Interface }

func (c clientServiceAccounts) Get(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	return c.kube.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
}

type Resolver struct {
	kube      kubernetes.Interface
	sas       ServiceAccountGetter
	keychain  authn.Keychain
	insecure  map[string]bool
	transport *http.Transport
	timeout   time.Duration
	userAgent string
	log       logr.Logger
}

// New makes a Resolver. It fails on invalid or conflicting options.
func New(o Options) (*Resolver, error) {
	r := &Resolver{
		kube:      o.Kube,
		sas:       o.ServiceAccounts,
		keychain:  o.Keychain,
		insecure:  map[string]bool{},
		timeout:   o.Timeout,
		userAgent: o.UserAgent,
		log:       o.Log,
	}
	if r.keychain == nil {
		r.keychain = authn.DefaultKeychain
	}
	switch {
	case r.timeout < 0:
		return nil, fmt.Errorf("resolver options: negative timeout %s", o.Timeout)
	case r.timeout == 0:
		r.timeout = DefaultTimeout
	}
	for _, h := range o.InsecureRegistries {
		reg, err := name.NewRegistry(h, name.StrictValidation)
		if err != nil || h == "" || strings.Contains(h, "/") {
			return nil, fmt.Errorf("resolver options: insecure registry %q is not a registry host[:port]", h)
		}
		// Keyed as references spell it ("docker.io" is "index.docker.io").
		r.insecure[reg.RegistryStr()] = true
	}
	roots := o.RootCAs
	if o.CAFile != "" {
		if roots != nil {
			return nil, errors.New("resolver options: CAFile and RootCAs are both set; give one")
		}
		var err error
		if roots, err = systemRootsWith(o.CAFile); err != nil {
			return nil, fmt.Errorf("resolver options: %w", err)
		}
	}
	base, ok := remote.DefaultTransport.(*http.Transport)
	if !ok {
		base = http.DefaultTransport.(*http.Transport)
	}
	r.transport = base.Clone()
	if roots != nil {
		r.transport.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	if r.sas == nil && r.kube != nil {
		r.sas = clientServiceAccounts{r.kube}
	}
	return r, nil
}

// systemRootsWith is the system's roots plus the certificates in file.
func systemRootsWith(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA file %s holds no PEM certificate", file)
	}
	return pool, nil
}

func (r *Resolver) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout)
}

// Resolve returns the digest of the manifest (or index) tag names at its
// registry, reached with the pull credentials of c. It is Keyring followed
// by ResolveWith. Errors are *Error; no digest comes with an error.
func (r *Resolver) Resolve(ctx context.Context, tag name.Tag, c Credentials) (name.Digest, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	k, err := r.Keyring(ctx, c)
	if err != nil {
		var rerr *Error
		if errors.As(err, &rerr) {
			withImage := *rerr
			withImage.Image = tag.String()
			return name.Digest{}, &withImage
		}
		return name.Digest{}, err
	}
	return r.ResolveWith(ctx, tag, k)
}

// candidate is one set of credentials to try.
type candidate struct {
	auth   authn.Authenticator
	source string
}

// ResolveWith is Resolve with credentials already read. A nil Keyring means
// no pull secrets (the fallback keychain still applies).
func (r *Resolver) ResolveWith(ctx context.Context, tag name.Tag, k *Keyring) (name.Digest, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	d, source, err := r.resolve(ctx, tag, k)
	if err != nil {
		r.log.V(1).Info("tag resolution failed", "image", tag.String(), "error", err.Error())
		return name.Digest{}, err
	}
	r.log.V(1).Info("tag resolved", "image", tag.String(), "digest", d.DigestStr(), "credentials", source)
	return d, nil
}

func (r *Resolver) resolve(ctx context.Context, tag name.Tag, k *Keyring) (name.Digest, string, error) {
	reg := tag.RegistryStr()
	fail := func(kind error, detail string, err error) *Error {
		return &Error{Kind: kind, Image: tag.String(), Registry: reg, Detail: detail, Err: err}
	}
	cands, err := r.candidates(ctx, tag.Context(), k)
	if err != nil {
		kind := ErrCredentials
		if ck, _ := classify(ctx, err); ck == ErrTimeout || ck == context.Canceled {
			kind = ck
		}
		return name.Digest{}, "", fail(kind, "reading the hook's own registry credentials for "+reg, err)
	}
	target, err := r.reachable(tag)
	if err != nil {
		return name.Digest{}, "", fail(ErrRegistry, "internal error: registry name", err)
	}
	if len(cands) == 0 {
		h, err := r.attempt(ctx, target, authn.Anonymous)
		if err == nil {
			return tag.Context().Digest(h.String()), "anonymous", nil
		}
		kind, why := classify(ctx, err)
		if kind == ErrAuth {
			return name.Digest{}, "", fail(ErrAuth, fmt.Sprintf("authentication to %s failed: no credentials found for %s (%s; none in the hook's own credentials)%s",
				reg, reg, k.whereLooked(), k.notesSuffix()), err)
		}
		return name.Digest{}, "", fail(kind, describe(kind, why, tag, err, k), err)
	}
	// Try each credential in turn, as the kubelet does. Only a refusal
	// (or a not-found, which some registries answer for a repository the
	// credentials may not see) moves on to the next one.
	var authErrs []error
	var tried []string
	var notFound error
	for _, c := range cands {
		h, err := r.attempt(ctx, target, c.auth)
		if err == nil {
			return tag.Context().Digest(h.String()), c.source, nil
		}
		kind, why := classify(ctx, err)
		switch kind {
		case ErrAuth:
			authErrs = append(authErrs, err)
			tried = append(tried, c.source)
		case ErrNotFound:
			if notFound == nil {
				notFound = err
			}
		default:
			return name.Digest{}, "", fail(kind, describe(kind, why, tag, err, k), err)
		}
	}
	if notFound != nil {
		return name.Digest{}, "", fail(ErrNotFound, describe(ErrNotFound, "", tag, notFound, k), notFound)
	}
	detail := fmt.Sprintf("authentication to %s failed with %s", reg, credentialsOf(tried[0]))
	if len(tried) > 1 {
		detail = fmt.Sprintf("authentication to %s failed with each of the %d credentials tried (%s)", reg, len(tried), strings.Join(tried, ", "))
	}
	return name.Digest{}, "", fail(ErrAuth, detail+k.notesSuffix(), joined(authErrs))
}

// joined is errors.Join on one line, fit for a deny message.
type joined []error

func (j joined) Error() string {
	msgs := make([]string, len(j))
	for i, err := range j {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (j joined) Unwrap() []error { return j }

// credentialsOf words a credential source for "failed with ...".
func credentialsOf(source string) string {
	if strings.HasPrefix(source, "pull secret") {
		return "the credentials of " + source
	}
	return source
}

// describe words a failure other than a refused authentication.
func describe(kind error, why string, tag name.Tag, err error, k *Keyring) string {
	reg := tag.RegistryStr()
	switch kind {
	case ErrNotFound:
		what := fmt.Sprintf("tag %q not found in repository %s", tag.TagStr(), tag.Context())
		if strings.Contains(err.Error(), "NAME_UNKNOWN") {
			what = fmt.Sprintf("repository %s not found", tag.Context())
		}
		return what + k.notesSuffix()
	case ErrUnreachable:
		return fmt.Sprintf("registry %s unreachable: %s", reg, why)
	case ErrTimeout:
		return fmt.Sprintf("registry %s did not answer in time", reg)
	case context.Canceled:
		return "canceled"
	case ErrAuth:
		return fmt.Sprintf("authentication to %s failed", reg)
	}
	return fmt.Sprintf("registry %s did not give a usable digest", reg)
}

// candidates lists the credentials to try for repo, in order: pull secrets,
// then the fallback keychain. Equal credentials are tried once.
func (r *Resolver) candidates(ctx context.Context, repo name.Repository, k *Keyring) ([]candidate, error) {
	var out []candidate
	var seen []authn.AuthConfig
	for _, e := range k.lookup(kubeletImageName(repo)) {
		if containsConfig(seen, e.auth) {
			continue
		}
		seen = append(seen, e.auth)
		out = append(out, candidate{auth: authn.FromConfig(e.auth), source: e.source})
	}
	a, err := authn.Resolve(ctx, r.keychain, repo)
	if err != nil {
		return nil, err
	}
	if a != nil && a != authn.Anonymous {
		out = append(out, candidate{auth: a, source: "the hook's own credentials"})
	}
	return out, nil
}

func containsConfig(list []authn.AuthConfig, c authn.AuthConfig) bool {
	for _, x := range list {
		if x == c {
			return true
		}
	}
	return false
}

// reachable is tag as this resolver reaches it: plain HTTP for insecure
// registries.
func (r *Resolver) reachable(tag name.Tag) (name.Tag, error) {
	if !r.insecure[tag.RegistryStr()] {
		return tag, nil
	}
	reg, err := name.NewRegistry(tag.RegistryStr(), name.Insecure)
	if err != nil {
		return name.Tag{}, err
	}
	return reg.Repo(tag.RepositoryStr()).Tag(tag.TagStr()), nil
}

// attempt asks the registry for tag's digest with one set of credentials:
// HEAD, then GET when HEAD gave no usable answer for a reason GET might
// not share.
func (r *Resolver) attempt(ctx context.Context, tag name.Tag, auth authn.Authenticator) (v1.Hash, error) {
	opts := []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(auth),
		remote.WithTransport(r.transport),
		remote.WithRetryBackoff(retryBackoff),
	}
	if r.userAgent != "" {
		opts = append(opts, remote.WithUserAgent(r.userAgent))
	}
	// A new puller per attempt: a puller remembers a failed handshake for
	// good, and credentials differ between attempts.
	p, err := remote.NewPuller(opts...)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("internal error: registry client options: %w", err)
	}
	desc, err := p.Head(ctx, tag)
	switch {
	case err == nil && desc.Digest.Algorithm == "sha256":
		return sha256Only(desc.Digest)
	case err == nil:
		// Another algorithm in the header: GET hashes the bytes with sha256.
	default:
		switch kind, _ := classify(ctx, err); kind {
		case ErrAuth, ErrUnreachable, ErrTimeout, context.Canceled:
			return v1.Hash{}, err
		}
	}
	got, err := p.Get(ctx, tag)
	if err != nil {
		return v1.Hash{}, err
	}
	return sha256Only(got.Digest)
}

func sha256Only(h v1.Hash) (v1.Hash, error) {
	if h.Algorithm != "sha256" || len(h.Hex) != 64 {
		return v1.Hash{}, fmt.Errorf("the registry gave digest %q; only sha256 digests are accepted", h.String())
	}
	return h, nil
}
