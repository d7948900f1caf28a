// Package reference parses image references as written in pod specs, with
// the rules the hook enforces on top of the distribution grammar.
//
// An image can only be verified by digest: a tag names whatever the
// registry says today. Parse therefore tells digests and tags apart, and
// accepts only sha256 digests, the algorithm signatures are stored under.
package reference

import (
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// ErrInvalid marks references that do not parse.
var ErrInvalid = errors.New("invalid image reference")

// Ref is a parsed image reference.
type Ref struct {
	// Written is the reference as it appears in the spec.
	Written string
	// Digest is set when the reference names a digest (with or without a
	// tag in front of it).
	Digest *name.Digest
	// Tag is set when the reference names only a tag (latest when none is
	// written).
	Tag *name.Tag
}

// Repository is the repository the reference points into.
func (r Ref) Repository() name.Repository {
	if r.Digest != nil {
		return r.Digest.Context()
	}
	return r.Tag.Context()
}

// Parse parses s. Docker Hub short names (alpine) expand to
// index.docker.io/library/alpine, as the kubelet pulls them.
func Parse(s string) (Ref, error) {
	if s == "" {
		return Ref{}, fmt.Errorf("%w: empty", ErrInvalid)
	}
	if strings.TrimSpace(s) != s {
		return Ref{}, fmt.Errorf("%w %q: leading or trailing space", ErrInvalid, s)
	}
	if at := strings.LastIndex(s, "@"); at >= 0 {
		dig := s[at+1:]
		alg, hex, _ := strings.Cut(dig, ":")
		if alg != "sha256" {
			return Ref{}, fmt.Errorf("%w %q: digest algorithm %q is not supported; use a sha256 digest", ErrInvalid, s, alg)
		}
		if len(hex) != 64 || strings.Trim(hex, "0123456789abcdef") != "" {
			return Ref{}, fmt.Errorf("%w %q: a sha256 digest is 64 lower-case hex characters", ErrInvalid, s)
		}
		d, err := name.NewDigest(s)
		if err != nil {
			return Ref{}, fmt.Errorf("%w %q: %w", ErrInvalid, s, err)
		}
		return Ref{Written: s, Digest: &d}, nil
	}
	t, err := name.NewTag(s)
	if err != nil {
		return Ref{}, fmt.Errorf("%w %q: %w", ErrInvalid, s, err)
	}
	return Ref{Written: s, Tag: &t}, nil
}
