package admission

import (
	"context"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/kritis-project/kritis/internal/workload"
	"github.com/kritis-project/kritis/pkg/attest"
)

// Registry is what a request needs from registries, with the pull
// credentials of the object being admitted.
type Registry interface {
	// Signatures returns the signatures stored for img.
	Signatures(ctx context.Context, img name.Digest) ([]attest.Signature, error)
	// Resolve returns the digest tag names now.
	Resolve(ctx context.Context, tag name.Tag) (name.Digest, error)
}

// Registries gives the Registry of one request.
type Registries interface {
	// For returns a Registry authenticating as the pods of obj in
	// namespace would pull (their imagePullSecrets, their service
	// account's, then the hook's own). Credentials are read at the first
	// registry call, not before: most requests need none.
	For(namespace string, obj *workload.Object) Registry
}

// SourceOnly adapts an attest.Source, with no credentials of its own and
// no tag resolution, for callers that only verify digests (tests, tools).
type SourceOnly struct{ attest.Source }

// For implements Registries.
func (s SourceOnly) For(string, *workload.Object) Registry { return sourceOnly(s) }

type sourceOnly SourceOnly

func (s sourceOnly) Signatures(ctx context.Context, img name.Digest) ([]attest.Signature, error) {
	return s.Source.Signatures(ctx, img)
}

func (sourceOnly) Resolve(_ context.Context, tag name.Tag) (name.Digest, error) {
	return name.Digest{}, errNoResolver
}

var errNoResolver = errorString("tag resolution is not configured")

type errorString string

func (e errorString) Error() string { return string(e) }
