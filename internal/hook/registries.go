package hook

import (
	"context"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kritis-project/kritis/internal/admission"
	"github.com/kritis-project/kritis/internal/resolve"
	"github.com/kritis-project/kritis/internal/workload"
	"github.com/kritis-project/kritis/pkg/attest"
)

// registries gives each request registry access with its workload's pull
// credentials: signatures through attest, tags through resolve.
type registries struct {
	resolver *resolve.Resolver
	source   *attest.RegistrySource
}

func (r registries) For(namespace string, obj *workload.Object) admission.Registry {
	return &requestRegistry{registries: r, creds: resolve.Credentials{
		Namespace:        namespace,
		ServiceAccount:   obj.ServiceAccount,
		ImagePullSecrets: obj.PullSecrets,
	}}
}

// requestRegistry reads the pull secrets once, at its first registry call,
// and only then: a request whose images are all allowlisted or denied as
// tags reads none.
type requestRegistry struct {
	registries
	creds   resolve.Credentials
	once    sync.Once
	keyring *resolve.Keyring
	err     error
}

func (q *requestRegistry) load(ctx context.Context) (*resolve.Keyring, error) {
	q.once.Do(func() { q.keyring, q.err = q.resolver.Keyring(ctx, q.creds) })
	return q.keyring, q.err
}

func (q *requestRegistry) Signatures(ctx context.Context, img name.Digest) ([]attest.Signature, error) {
	k, err := q.load(ctx)
	if err != nil {
		return nil, err
	}
	return q.source.WithKeychain(q.resolver.Keychain(k)).Signatures(ctx, img)
}

func (q *requestRegistry) Resolve(ctx context.Context, tag name.Tag) (name.Digest, error) {
	k, err := q.load(ctx)
	if err != nil {
		return name.Digest{}, err
	}
	return q.resolver.ResolveWith(ctx, tag, k)
}
