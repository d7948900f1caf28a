package attest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/google/go-containerregistry/pkg/name"
)

// Signature payload types. Both name the same "simple signing" format;
// containers/image and kritis wrote the first, the cosign CLI writes the
// second. ParsePayload accepts both and nothing else.
const (
	TypeAtomic = "atomic container signature"
	TypeCosign = "cosign container image signature"
)

// KeyIDAnnotation is the key, in the payload's signed "optional" section,
// under which our signer records the id of the signing key (the
// authority's publicKeyId). It sits in the signed bytes, so it cannot be
// changed without breaking the signature. The cosign CLI puts `-a k=v`
// annotations in the same section, so `cosign sign -a
// kritis.grafeas.io/key-id=ID` records a key id too.
const KeyIDAnnotation = "kritis.grafeas.io/key-id"

// ErrInvalidPayload means a payload is not a well-formed simple-signing
// document.
var ErrInvalidPayload = errors.New("invalid signature payload")

// Payload is a parsed simple-signing document: the claim that DockerReference
// (a repository, as cosign writes it) at Digest is what the signer signed.
type Payload struct {
	// Type is TypeAtomic or TypeCosign.
	Type string
	// DockerReference is critical.identity.docker-reference as written,
	// e.g. "index.docker.io/library/alpine". It may carry a tag.
	DockerReference string
	// Digest is critical.image.docker-manifest-digest, e.g. "sha256:<hex>".
	Digest string
	// KeyID is the optional KeyIDAnnotation, "" when absent.
	KeyID string
	// Optional is the whole optional section (annotations), nil when absent.
	Optional map[string]any
}

// Repository parses DockerReference into a repository; a tag or digest in
// it is dropped. Repositories compare equal by Name(), which normalises
// Docker Hub spellings ("alpine", "docker.io/library/alpine").
func (p Payload) Repository() (name.Repository, error) {
	ref, err := name.ParseReference(p.DockerReference)
	if err != nil {
		return name.Repository{}, fmt.Errorf("%w: docker-reference %q: %w", ErrInvalidPayload, p.DockerReference, err)
	}
	return ref.Context(), nil
}

// wire types: the JSON shape. Pointers tell "absent" from "empty".
type (
	wirePayload struct {
		Critical *wireCritical  `json:"critical"`
		Optional map[string]any `json:"optional"`
	}
	wireCritical struct {
		Identity *wireIdentity `json:"identity"`
		Image    *wireImage    `json:"image"`
		Type     string        `json:"type"`
	}
	wireIdentity struct {
		DockerReference string `json:"docker-reference"`
	}
	wireImage struct {
		DockerManifestDigest string `json:"docker-manifest-digest"`
	}
)

// NewPayload makes the simple-signing payload for repo at digest, of type
// TypeAtomic as kritis wrote it (the cosign CLI's `verify` does not look at
// the type, so it verifies these too). docker-reference is repo.Name(), as
// cosign writes it ("index.docker.io/library/alpine"). A non-empty keyID is
// recorded under KeyIDAnnotation in the signed optional section.
func NewPayload(repo name.Repository, digest string, keyID string) ([]byte, error) {
	if repo.RepositoryStr() == "" {
		return nil, fmt.Errorf("%w: no repository", ErrInvalidPayload)
	}
	return Payload{
		Type:            TypeAtomic,
		DockerReference: repo.Name(),
		Digest:          digest,
		KeyID:           keyID,
	}.Marshal()
}

// Marshal writes p as JSON. Type defaults to TypeAtomic; KeyID, when set,
// is written into the optional section under KeyIDAnnotation.
func (p Payload) Marshal() ([]byte, error) {
	if p.Type == "" {
		p.Type = TypeAtomic
	}
	if p.Type != TypeAtomic && p.Type != TypeCosign {
		return nil, fmt.Errorf("%w: type %q", ErrInvalidPayload, p.Type)
	}
	if p.DockerReference == "" {
		return nil, fmt.Errorf("%w: empty docker-reference", ErrInvalidPayload)
	}
	if _, err := p.Repository(); err != nil {
		return nil, err
	}
	if err := checkDigest(p.Digest); err != nil {
		return nil, err
	}
	opt := make(map[string]any, len(p.Optional)+1)
	for k, v := range p.Optional {
		opt[k] = v
	}
	if p.KeyID != "" {
		if v, ok := opt[KeyIDAnnotation]; ok && v != p.KeyID {
			return nil, fmt.Errorf("%w: optional %s disagrees with KeyID", ErrInvalidPayload, KeyIDAnnotation)
		}
		opt[KeyIDAnnotation] = p.KeyID
	}
	return json.Marshal(wirePayload{
		Critical: &wireCritical{
			Identity: &wireIdentity{DockerReference: p.DockerReference},
			Image:    &wireImage{DockerManifestDigest: p.Digest},
			Type:     p.Type,
		},
		Optional: opt,
	})
}

// ParsePayload reads a simple-signing payload. It requires one JSON object
// with a "critical" section holding identity.docker-reference (a parseable
// reference), image.docker-manifest-digest (a well-formed sha256, sha384 or
// sha512 digest) and a type of TypeAtomic or TypeCosign. Unknown fields are
// refused everywhere except in "optional", which is free-form by design.
// Errors wrap ErrInvalidPayload.
func ParsePayload(b []byte) (Payload, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var w wirePayload
	if err := dec.Decode(&w); err != nil {
		return Payload{}, fmt.Errorf("%w: %s", ErrInvalidPayload, jsonErrorText(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return Payload{}, fmt.Errorf("%w: trailing data after the JSON object", ErrInvalidPayload)
	}
	c := w.Critical
	switch {
	case c == nil:
		return Payload{}, fmt.Errorf("%w: no critical section", ErrInvalidPayload)
	case c.Identity == nil:
		return Payload{}, fmt.Errorf("%w: no critical.identity", ErrInvalidPayload)
	case c.Image == nil:
		return Payload{}, fmt.Errorf("%w: no critical.image", ErrInvalidPayload)
	case c.Type != TypeAtomic && c.Type != TypeCosign:
		return Payload{}, fmt.Errorf("%w: type %q (want %q or %q)", ErrInvalidPayload, truncate(c.Type, 64), TypeAtomic, TypeCosign)
	case c.Identity.DockerReference == "":
		return Payload{}, fmt.Errorf("%w: empty docker-reference", ErrInvalidPayload)
	}
	p := Payload{
		Type:            c.Type,
		DockerReference: c.Identity.DockerReference,
		Digest:          c.Image.DockerManifestDigest,
		Optional:        w.Optional,
	}
	if _, err := p.Repository(); err != nil {
		return Payload{}, err
	}
	if err := checkDigest(p.Digest); err != nil {
		return Payload{}, err
	}
	if v, ok := w.Optional[KeyIDAnnotation]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return Payload{}, fmt.Errorf("%w: optional %s is not a string", ErrInvalidPayload, KeyIDAnnotation)
		}
		p.KeyID = s
	}
	return p, nil
}

// digestHexLen is the hex length of each digest algorithm we accept.
var digestHexLen = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}

// checkDigest accepts "<alg>:<lower-case hex>" with the algorithm's length.
func checkDigest(d string) error {
	alg, hexPart, ok := strings.Cut(d, ":")
	if !ok {
		return fmt.Errorf("%w: digest %q is not <algorithm>:<hex>", ErrInvalidPayload, truncate(d, 80))
	}
	n, known := digestHexLen[alg]
	if !known {
		return fmt.Errorf("%w: digest algorithm %q (want sha256, sha384 or sha512)", ErrInvalidPayload, truncate(alg, 16))
	}
	if len(hexPart) != n {
		return fmt.Errorf("%w: %s digest has %d hex characters, want %d", ErrInvalidPayload, alg, len(hexPart), n)
	}
	for i := 0; i < len(hexPart); i++ {
		c := hexPart[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return fmt.Errorf("%w: %s digest is not lower-case hex", ErrInvalidPayload, alg)
		}
	}
	return nil
}

// jsonErrorText shortens encoding/json errors, which can quote input.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("not JSON (offset %d)", syn.Offset)
	}
	if errors.Is(err, io.EOF) {
		return "empty"
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated JSON"
	}
	return truncate(strings.TrimPrefix(err.Error(), "json: "), 120)
}

// truncate keeps messages short when they quote untrusted input.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
