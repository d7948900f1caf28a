package hook

import (
	"context"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kritis-project/kritis/internal/admission"
	"github.com/kritis-project/kritis/internal/resolve"
	"github.com/kritis-project/kritis/internal/workload"
	"github.com/kritis-project/kritis/pkg/attest"
)

// cachedServiceAccounts reads service accounts from the manager's cache,
// and from the API server when the cache has not seen one: it may have
// been created a moment ago, together with the workload.
type cachedServiceAccounts struct {
	cache client.Reader
	live  kubernetes.Interface
}

func (s cachedServiceAccounts) Get(ctx context.Context, namespace, name string) (*corev1.ServiceAccount, error) {
	var sa corev1.ServiceAccount
	err := s.cache.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, &sa)
	if apierrors.IsNotFound(err) {
		return s.live.CoreV1().ServiceAccounts(namespace).Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return nil, err
	}
	return &sa, nil
}

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
