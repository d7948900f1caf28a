package resolve

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Credentials says whose pull credentials apply: those of a pod in
// Namespace running as ServiceAccount and listing ImagePullSecrets.
type Credentials struct {
	// Namespace of the workload. Pull secrets and the service account are
	// read from this namespace only. Empty: no Kubernetes credentials
	// (only the fallback keychain); ServiceAccount and ImagePullSecrets
	// must then be empty too.
	Namespace string
	// ServiceAccount the pods run as; "" means "default". Its pull secrets
	// are used only when ImagePullSecrets is empty.
	ServiceAccount string
	// ImagePullSecrets names the pod spec's pull secrets, in order.
	ImagePullSecrets []string
}

// Keyring holds the pull credentials read for one Credentials. It is read
// by Resolver.Keyring for one admission request and then dropped: it is not
// refreshed, so keeping it would miss secret rotation. It is safe for
// concurrent use.
type Keyring struct {
	entries []entry
	// where says where credentials were looked for, for "none found".
	where string
	// notes are credential sources that were skipped (a missing secret),
	// told in authentication and not-found errors.
	notes []string
}

// entry is one registry's credentials from one pull secret.
type entry struct {
	key    string // host[:port][/path], as the kubelet keys it
	auth   authn.AuthConfig
	source string
}

const dockerHubKey = "index.docker.io"

// Keyring reads the pull secrets that apply to c through the Kubernetes
// client; see the package documentation for the rules. A missing secret or
// service account is skipped and noted; other failures are *Error of kind
// ErrCredentials (or ErrTimeout).
func (r *Resolver) Keyring(ctx context.Context, c Credentials) (*Keyring, error) {
	ctx, cancel := r.withTimeout(ctx)
	defer cancel()
	k := &Keyring{where: "no pull secrets"}
	if c.Namespace == "" {
		if c.ServiceAccount != "" || len(c.ImagePullSecrets) > 0 {
			return nil, &Error{Kind: ErrCredentials, Detail: "internal error: pull secrets or a service account given without a namespace"}
		}
		return k, nil
	}
	ns := c.Namespace
	names := uniqueNames(c.ImagePullSecrets)
	if r.kube == nil {
		if len(names) > 0 {
			k.notes = append(k.notes, "pull secrets were not read: the resolver has no Kubernetes client")
		}
		return k, nil
	}
	if len(names) > 0 {
		k.where = fmt.Sprintf("none in pull secrets %s of namespace %s", strings.Join(names, ", "), ns)
	} else {
		sa := c.ServiceAccount
		if sa == "" {
			sa = "default"
		}
		obj, err := r.sas.Get(ctx, ns, sa)
		switch {
		case apierrors.IsNotFound(err):
			k.where = fmt.Sprintf("no pull secrets on the pod, and its service account %s/%s does not exist", ns, sa)
		case err != nil:
			return nil, credentialsError(ctx, fmt.Sprintf("reading service account %s/%s", ns, sa), err)
		default:
			for _, ref := range obj.ImagePullSecrets {
				names = append(names, ref.Name)
			}
			names = uniqueNames(names)
			if len(names) > 0 {
				k.where = fmt.Sprintf("none in pull secrets %s of service account %s/%s", strings.Join(names, ", "), ns, sa)
			} else {
				k.where = fmt.Sprintf("no pull secrets on the pod nor on its service account %s/%s", ns, sa)
			}
		}
	}
	for _, n := range names {
		s, err := r.kube.CoreV1().Secrets(ns).Get(ctx, n, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			k.notes = append(k.notes, fmt.Sprintf("pull secret %s/%s not found", ns, n))
			continue
		}
		if err != nil {
			return nil, credentialsError(ctx, fmt.Sprintf("reading pull secret %s/%s", ns, n), err)
		}
		entries, note, err := secretEntries(s)
		if err != nil {
			return nil, &Error{Kind: ErrCredentials, Detail: fmt.Sprintf("pull secret %s/%s is malformed", ns, n), Err: err}
		}
		if note != "" {
			k.notes = append(k.notes, note)
		}
		k.entries = append(k.entries, entries...)
	}
	return k, nil
}

func credentialsError(ctx context.Context, what string, err error) *Error {
	kind := ErrCredentials
	if k, _ := classify(ctx, err); k == ErrTimeout || k == context.Canceled {
		kind = k
	}
	return &Error{Kind: kind, Detail: what, Err: err}
}

// uniqueNames drops empty and repeated names, keeping the first place.
func uniqueNames(in []string) []string {
	var out []string
	for _, n := range in {
		if n != "" && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

// secretEntries reads the registry credentials of a pull secret, as the
// kubelet does: only the two docker config secret types count; a secret of
// another type gives a note instead.
func secretEntries(s *corev1.Secret) ([]entry, string, error) {
	source := fmt.Sprintf("pull secret %s/%s", s.Namespace, s.Name)
	var cfg map[string]authn.AuthConfig
	switch {
	case s.Type == corev1.SecretTypeDockerConfigJson && len(s.Data[corev1.DockerConfigJsonKey]) > 0:
		var doc struct {
			Auths map[string]authn.AuthConfig `json:"auths"`
		}
		if err := json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &doc); err != nil {
			return nil, "", fmt.Errorf("parsing %s: %w", corev1.DockerConfigJsonKey, err)
		}
		cfg = doc.Auths
	case s.Type == corev1.SecretTypeDockercfg && len(s.Data[corev1.DockerConfigKey]) > 0:
		if err := json.Unmarshal(s.Data[corev1.DockerConfigKey], &cfg); err != nil {
			return nil, "", fmt.Errorf("parsing %s: %w", corev1.DockerConfigKey, err)
		}
	default:
		return nil, fmt.Sprintf("%s ignored: it is of type %q, not a docker config with data", source, s.Type), nil
	}
	locs := make([]string, 0, len(cfg))
	for loc := range cfg {
		locs = append(locs, loc)
	}
	sort.Strings(locs) // map order is random; keep the try order stable
	var out []entry
	for _, loc := range locs {
		key, ok := credentialKey(loc)
		if !ok || cfg[loc] == (authn.AuthConfig{}) {
			continue
		}
		out = append(out, entry{key: key, auth: cfg[loc], source: source})
	}
	return out, "", nil
}

// credentialKey is the kubelet's key for a docker config location: the
// scheme dropped, a /v1/ or /v2/ path prefix dropped, host[:port] plus any
// remaining path.
func credentialKey(loc string) (string, bool) {
	v := loc
	if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return "", false
	}
	p := u.Path
	if strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/v1/") {
		p = p[3:]
	}
	if p != "" && p != "/" {
		return u.Host + p, true
	}
	return u.Host, true
}

// kubeletImageName is the repository as the kubelet names it for
// credential lookup: Docker Hub is docker.io, not index.docker.io.
func kubeletImageName(repo name.Repository) string {
	host := repo.RegistryStr()
	if host == name.DefaultRegistry {
		host = "docker.io"
	}
	return host + "/" + repo.RepositoryStr()
}

// lookup returns the entries that apply to image (as kubeletImageName
// spells it), most specific key first, in the order read within one key.
func (k *Keyring) lookup(image string) []entry {
	if k == nil {
		return nil
	}
	var keys []string
	for _, e := range k.entries {
		if !slices.Contains(keys, e.key) {
			keys = append(keys, e.key)
		}
	}
	// Reverse order puts "r.io/team/app" before "r.io/team" before "r.io".
	sort.Sort(sort.Reverse(sort.StringSlice(keys)))
	var out []entry
	for _, key := range keys {
		if keyMatches(key, image) {
			out = append(out, k.withKey(key)...)
		}
	}
	if len(out) == 0 && isDockerHub(image) {
		out = k.withKey(dockerHubKey)
	}
	return out
}

func (k *Keyring) withKey(key string) []entry {
	var out []entry
	for _, e := range k.entries {
		if e.key == key {
			out = append(out, e)
		}
	}
	return out
}

// keyMatches is the kubelet's match of a credential key against an image:
// the same port, the same number of host labels each matching the key's
// label as a glob, and the key's path a prefix of the image's.
func keyMatches(key, image string) bool {
	ku, err := url.Parse("https://" + key)
	if err != nil {
		return false
	}
	iu, err := url.Parse("https://" + image)
	if err != nil {
		return false
	}
	kLabels, kPort := splitHost(ku.Host)
	iLabels, iPort := splitHost(iu.Host)
	if kPort != iPort || len(kLabels) != len(iLabels) || !strings.HasPrefix(iu.Path, ku.Path) {
		return false
	}
	for i, glob := range kLabels {
		if ok, err := filepath.Match(glob, iLabels[i]); err != nil || !ok {
			return false
		}
	}
	return true
}

func splitHost(hostport string) (labels []string, port string) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, ""
	}
	return strings.Split(host, "."), port
}

// isDockerHub says whether the kubelet would pull image from Docker Hub.
func isDockerHub(image string) bool {
	first, _, found := strings.Cut(image, "/")
	switch {
	case first == "":
		return false
	case !found, first == "docker.io":
		return true
	}
	return !strings.ContainsAny(first, ".:") && first != "localhost"
}

// notesSuffix tells the skipped credential sources, for error messages.
func (k *Keyring) notesSuffix() string {
	if k == nil || len(k.notes) == 0 {
		return ""
	}
	return " (note: " + strings.Join(k.notes, "; ") + ")"
}

func (k *Keyring) whereLooked() string {
	if k == nil {
		return "no pull secrets"
	}
	return k.where
}

// Keychain returns an authn.Keychain over k for other requests to the same
// repositories (the signatures stored next to an image): the first pull
// secret credential the kubelet would try for a repository, else the
// resolver's own keychain. A nil k gives the resolver's keychain alone.
func (r *Resolver) Keychain(k *Keyring) authn.Keychain {
	return keyringChain{k: k, fallback: r.keychain}
}

type keyringChain struct {
	k        *Keyring
	fallback authn.Keychain
}

func (c keyringChain) Resolve(res authn.Resource) (authn.Authenticator, error) {
	return c.ResolveContext(context.Background(), res)
}

func (c keyringChain) ResolveContext(ctx context.Context, res authn.Resource) (authn.Authenticator, error) {
	if repo, err := name.NewRepository(res.String()); err == nil {
		if entries := c.k.lookup(kubeletImageName(repo)); len(entries) > 0 {
			return authn.FromConfig(entries[0].auth), nil
		}
	} else if entries := c.k.lookup(res.RegistryStr()); len(entries) > 0 {
		return authn.FromConfig(entries[0].auth), nil
	}
	return authn.Resolve(ctx, c.fallback, res)
}
