// Package resolve turns an image tag into the digest of the manifest the tag
// names at its registry right now, reached with the credentials the kubelet
// would use to pull it, so that the webhook can verify that digest and pin
// the workload to it.
//
// # Use
//
//	r, err := resolve.New(resolve.Options{Kube: client})
//	d, err := r.Resolve(ctx, tag, resolve.Credentials{
//		Namespace:        req.Namespace,
//		ServiceAccount:   spec.ServiceAccountName,
//		ImagePullSecrets: secretNames(spec.ImagePullSecrets),
//	})
//
// A workload with several tagged images reads its pull secrets once with
// Resolver.Keyring and resolves each tag with Resolver.ResolveWith. A
// Keyring belongs to one admission request: keeping it longer would miss a
// rotated or deleted secret.
//
// # Credentials: what the kubelet would use
//
// The credentials tried for a registry R are, in order:
//
//  1. the pod's imagePullSecrets; when the pod lists none, those of its
//     service account ("default" when unnamed). This is the rule of the
//     ServiceAccount admission plugin, which copies the service account's
//     pull secrets into a pod only when the pod has none, so a pod that lists
//     its own secrets never gets the service account's;
//  2. the fallback keychain (Options.Keychain, by default the docker config
//     of the hook's own process), the counterpart of the node's credentials.
//
// Within the pull secrets, entries are matched to the image as the kubelet
// matches them: the entry's key (scheme and a /v1/ or /v2/ suffix dropped)
// is a host, optionally with port and path; host labels may hold globs
// ("*.example.com"), the port must be equal, the path must be a prefix of
// the repository's path; more specific keys are tried first; keys for
// index.docker.io serve Docker Hub images. Secrets of type
// kubernetes.io/dockerconfigjson and kubernetes.io/dockercfg are read;
// other types are ignored, with a note in any error.
//
// When several credentials match, each is tried in turn until one is let in
// (the kubelet does the same, which lets a stale secret sit beside a new
// one). When some match but none is let in, the result is an ErrAuth error:
// anonymous access is not tried then, as the kubelet would not try it
// either. When none matches, the registry is asked anonymously.
//
// A pull secret or service account that does not exist is skipped, as the
// kubelet skips a missing pull secret with a warning; the skip is named in
// the message of an authentication or not-found error, so a denial says
// why the credentials were missing, and no other credentials stand in for
// the skipped ones except those the kubelet would also try. Any other failure to read one (forbidden, API server down),
// and a malformed secret, is an ErrCredentials error: the resolver does not
// go on with a credential set it could not read. Secrets are read per call
// through Options.Kube and never cached: the hook holds no cluster-wide copy
// of the cluster's secrets, and needs only "get" on secrets and
// serviceaccounts. A secret is only ever read from the namespace in
// Credentials.
//
// # Resolution
//
// The manifest is asked for with a HEAD request, accepting every manifest
// and index media type, and its Docker-Content-Digest header is the answer.
// When HEAD fails for a reason other than authentication, reachability or
// time (a proxy that drops the header, a 404 that the GET can explain), or
// gives a digest of another algorithm, a GET follows and the digest is the
// sha256 of the manifest bytes. Retries of 5xx answers are few and short
// (100 ms, then 300 ms), to stay within an admission request's budget. A
// multi-architecture index resolves to the index's own digest, never to one
// platform's manifest: the kubelet picks the platform, and the signature is
// on the index. Only sha256 digests are accepted, the algorithm signatures
// are stored under.
//
// # Errors
//
// Every failure is an *Error whose Kind is one of ErrAuth, ErrNotFound,
// ErrUnreachable, ErrTimeout, ErrRegistry, ErrCredentials (or
// context.Canceled), and which wraps the underlying cause, so errors.Is
// works on both. Messages name the image, the registry and the cause. A
// digest is never returned together with an error.
//
// # No cache
//
// Nothing is cached: neither failures (a registry that is back must be seen
// at once) nor successes. A tag can move at any time, and a workload edited
// right after its tag moved must be checked against the new digest; one
// HEAD request per tagged image is cheap next to the signature checks that
// follow. Registry clients are not kept across calls either, since
// go-containerregistry remembers a failed handshake for good; the HTTP
// connection pool is shared.
package resolve
