package attest

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The cosign storage format, as facts of the format.
const (
	// SimpleSigningMediaType is the media type of a signature layer: its
	// blob is the signed payload.
	SimpleSigningMediaType types.MediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
	// SignatureAnnotation is the layer annotation holding the base64
	// (standard alphabet, padded) of the signature over the layer's blob.
	SignatureAnnotation = "dev.cosignproject.cosign/signature"
	// SignatureTagSuffix ends the tag of a signature manifest:
	// "<algorithm>-<hex>.sig".
	SignatureTagSuffix = ".sig"
)

// Default limits on what one signature manifest may make us read. A
// signature tag is writable by anyone who can push to the repository, so its
// contents are untrusted input until a signature verifies.
const (
	DefaultMaxSignatures   = 100
	DefaultMaxPayloadBytes = 1 << 20
)

// ErrMalformedSignature marks a signature layer that cannot be checked at
// all: no or undecodable signature annotation, oversized payload.
var ErrMalformedSignature = errors.New("malformed signature")

// Signature is one signature layer read from a registry. When Err is set the
// layer could not be read into a checkable signature, and Payload or Sig may
// be empty; the other layers are still returned.
type Signature struct {
	// Payload is the signed simple-signing document, exactly as stored.
	Payload []byte
	// Sig is the raw (base64-decoded) signature over Payload.
	Sig []byte
	// Err says why this layer is unusable; it wraps ErrMalformedSignature.
	Err error
	// Layer is the layer's digest, to name it in messages.
	Layer string
}

// Source finds the signatures stored for an image. A missing signature set
// is not an error: it returns no signatures. Any failure to find out
// returns an error, never an empty list, so callers can fail closed.
type Source interface {
	Signatures(ctx context.Context, img name.Digest) ([]Signature, error)
}

// RegistrySource reads and writes signatures where cosign keeps them: in the
// image's own repository, as the manifest tagged "<alg>-<hex>.sig" (see
// SignatureTag), one layer per signature. It holds no per-request state and
// is safe for concurrent use.
type RegistrySource struct {
	cfg registryConfig
}

var _ Source = (*RegistrySource)(nil)

type registryConfig struct {
	keychain        authn.Keychain
	transport       http.RoundTripper
	userAgent       string
	insecure        map[string]bool
	maxSignatures   int
	maxPayloadBytes int64
	remoteOpts      []remote.Option
	set             map[string]bool
}

// Option configures a RegistrySource. Options return an error for invalid
// or conflicting settings instead of silently picking one.
type Option func(*registryConfig) error

func setOnce(c *registryConfig, what string) error {
	if c.set[what] {
		return fmt.Errorf("%s set twice", what)
	}
	c.set[what] = true
	return nil
}

// WithKeychain sets how registry credentials are found. The default is
// authn.DefaultKeychain (the Docker config file); a webhook typically passes
// a keychain built from image pull secrets.
func WithKeychain(kc authn.Keychain) Option {
	return func(c *registryConfig) error {
		if kc == nil {
			return errors.New("nil keychain")
		}
		if err := setOnce(c, "keychain"); err != nil {
			return err
		}
		c.keychain = kc
		return nil
	}
}

// WithTransport sets the HTTP transport (proxies, TLS roots, timeouts). The
// default is remote.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option {
	return func(c *registryConfig) error {
		if rt == nil {
			return errors.New("nil transport")
		}
		if err := setOnce(c, "transport"); err != nil {
			return err
		}
		c.transport = rt
		return nil
	}
}

// WithUserAgent adds to the User-Agent header sent to registries.
func WithUserAgent(ua string) Option {
	return func(c *registryConfig) error {
		if err := setOnce(c, "user agent"); err != nil {
			return err
		}
		c.userAgent = ua
		return nil
	}
}

// WithInsecureRegistries names registries ("host" or "host:port") spoken to
// over plain HTTP. Registries on localhost, loopback and private (RFC 1918)
// addresses already use plain HTTP, as go-containerregistry decides.
func WithInsecureRegistries(hosts ...string) Option {
	return func(c *registryConfig) error {
		for _, h := range hosts {
			reg, err := name.NewRegistry(h, name.StrictValidation)
			if err != nil || h == "" {
				return fmt.Errorf("insecure registry %q is not a registry host[:port]", h)
			}
			// Keyed as references spell it ("docker.io" is
			// "index.docker.io").
			c.insecure[reg.RegistryStr()] = true
		}
		return nil
	}
}

// WithLimits bounds how many signature layers one manifest may hold and how
// large one payload may be. Both must be positive.
func WithLimits(maxSignatures int, maxPayloadBytes int64) Option {
	return func(c *registryConfig) error {
		if maxSignatures <= 0 || maxPayloadBytes <= 0 {
			return fmt.Errorf("limits must be positive (got %d signatures, %d bytes)", maxSignatures, maxPayloadBytes)
		}
		if err := setOnce(c, "limits"); err != nil {
			return err
		}
		c.maxSignatures, c.maxPayloadBytes = maxSignatures, maxPayloadBytes
		return nil
	}
}

// WithRemoteOptions passes further go-containerregistry options (retry
// policy, for instance). They are applied after the ones this package sets,
// so they win.
func WithRemoteOptions(opts ...remote.Option) Option {
	return func(c *registryConfig) error {
		c.remoteOpts = append(c.remoteOpts, opts...)
		return nil
	}
}

// NewRegistrySource makes a Source reading signatures from OCI registries.
func NewRegistrySource(opts ...Option) (*RegistrySource, error) {
	cfg := registryConfig{
		keychain:        authn.DefaultKeychain,
		insecure:        map[string]bool{},
		maxSignatures:   DefaultMaxSignatures,
		maxPayloadBytes: DefaultMaxPayloadBytes,
		set:             map[string]bool{},
	}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, fmt.Errorf("registry source options: %w", err)
		}
	}
	return &RegistrySource{cfg: cfg}, nil
}

func (s *RegistrySource) remote(ctx context.Context) []remote.Option {
	opts := []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(s.cfg.keychain)}
	if s.cfg.transport != nil {
		opts = append(opts, remote.WithTransport(s.cfg.transport))
	}
	if s.cfg.userAgent != "" {
		opts = append(opts, remote.WithUserAgent(s.cfg.userAgent))
	}
	return append(opts, s.cfg.remoteOpts...)
}

// SignatureTag is the tag under which cosign stores img's signatures:
// "<alg>-<hex>.sig" in img's repository, e.g.
// "R/app:sha256-4f3c...9a.sig". A sha512 digest makes a tag longer than
// the 128 characters a tag may have, so it is refused with an error.
func SignatureTag(img name.Digest) (name.Tag, error) {
	alg, hexPart, ok := strings.Cut(img.DigestStr(), ":")
	if !ok || alg == "" || hexPart == "" {
		return name.Tag{}, fmt.Errorf("digest %q is not <algorithm>:<hex>", img.DigestStr())
	}
	t := alg + "-" + hexPart + SignatureTagSuffix
	if len(t) > 128 {
		return name.Tag{}, fmt.Errorf("%s digests are not supported: their signature tag would be %d characters, more than the 128 a tag may have", alg, len(t))
	}
	return img.Context().Tag(t), nil
}

// sigTag is SignatureTag in the repository as this source reaches it
// (plain HTTP for insecure registries).
func (s *RegistrySource) sigTag(img name.Digest) (name.Tag, error) {
	t, err := SignatureTag(img)
	if err != nil {
		return name.Tag{}, err
	}
	repo := t.Context()
	if !s.cfg.insecure[repo.RegistryStr()] {
		return t, nil
	}
	reg, err := name.NewRegistry(repo.RegistryStr(), name.Insecure)
	if err != nil {
		return name.Tag{}, fmt.Errorf("internal error: registry %q: %w", repo.RegistryStr(), err)
	}
	return reg.Repo(repo.RepositoryStr()).Tag(t.TagStr()), nil
}

// isNotFound tells "there is no such tag or repository" apart from every
// other failure.
func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.ManifestUnknownErrorCode || d.Code == transport.NameUnknownErrorCode {
			return true
		}
	}
	return false
}

// WithKeychain returns a copy of s that authenticates with kc, for one
// workload's pull credentials; s is unchanged.
func (s *RegistrySource) WithKeychain(kc authn.Keychain) *RegistrySource {
	c := *s
	c.cfg.keychain = kc
	return &c
}

// Signatures returns the signatures stored for img, in manifest order. A
// missing signature tag (or repository) gives an empty list and no error;
// any other failure, including ctx's deadline, gives an error naming the
// image and the failed request. Layers of other media types are skipped.
// A manifest with more layers than the limit is an error (rather than a
// silently partial answer). Per-layer problems (a bad annotation, an
// oversized payload) do not fail the call: they are reported in that
// Signature's Err.
func (s *RegistrySource) Signatures(ctx context.Context, img name.Digest) ([]Signature, error) {
	sigs, err := s.signatures(ctx, img)
	if err != nil {
		return nil, fmt.Errorf("fetching signatures for %s: %w", img, err)
	}
	return sigs, nil
}

func (s *RegistrySource) signatures(ctx context.Context, img name.Digest) ([]Signature, error) {
	tag, err := s.sigTag(img)
	if err != nil {
		return nil, err
	}
	// One puller per call shares the registry handshake among the
	// manifest and layer requests. Pullers are not kept across calls: a
	// puller remembers a failed handshake for good, which would turn one
	// registry outage into a permanent one.
	puller, err := remote.NewPuller(s.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("internal error: registry client options: %w", err)
	}
	desc, err := puller.Get(ctx, tag)
	if err != nil {
		if isNotFound(err) {
			return []Signature{}, nil
		}
		return nil, err
	}
	m, err := parseSigManifest(desc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tag, err)
	}
	if n := len(m.Layers); n > s.cfg.maxSignatures {
		return nil, fmt.Errorf("%s holds %d layers, more than the limit of %d signatures", tag, n, s.cfg.maxSignatures)
	}
	blobs := map[v1.Hash][]byte{}
	sigs := make([]Signature, 0, len(m.Layers))
	for _, l := range m.Layers {
		if l.MediaType != SimpleSigningMediaType {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sig := Signature{Layer: l.Digest.String()}
		sig.Sig, sig.Err = decodeSignatureAnnotation(l.Annotations)
		if sig.Err == nil && l.Size > s.cfg.maxPayloadBytes {
			sig.Err = fmt.Errorf("%w: payload of %d bytes is larger than the limit of %d", ErrMalformedSignature, l.Size, s.cfg.maxPayloadBytes)
		}
		if sig.Err != nil {
			sigs = append(sigs, sig)
			continue
		}
		payload, ok := blobs[l.Digest]
		if !ok {
			payload, err = s.readBlob(ctx, puller, tag.Context().Digest(l.Digest.String()))
			if err != nil {
				return nil, fmt.Errorf("reading signature layer %s: %w", l.Digest, err)
			}
			blobs[l.Digest] = payload
		}
		if int64(len(payload)) > s.cfg.maxPayloadBytes {
			sig.Err = fmt.Errorf("%w: payload is larger than the limit of %d bytes", ErrMalformedSignature, s.cfg.maxPayloadBytes)
		} else {
			sig.Payload = payload
		}
		sigs = append(sigs, sig)
	}
	return sigs, nil
}

func parseSigManifest(desc *remote.Descriptor) (*v1.Manifest, error) {
	switch desc.MediaType {
	case types.OCIManifestSchema1, types.DockerManifestSchema2:
	default:
		return nil, fmt.Errorf("has media type %s, not an image manifest", desc.MediaType)
	}
	m, err := v1.ParseManifest(bytes.NewReader(desc.Manifest))
	if err != nil {
		return nil, fmt.Errorf("parsing signature manifest: %w", err)
	}
	return m, nil
}

func decodeSignatureAnnotation(ann map[string]string) ([]byte, error) {
	b64, ok := ann[SignatureAnnotation]
	if !ok {
		return nil, fmt.Errorf("%w: layer has no %s annotation", ErrMalformedSignature, SignatureAnnotation)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("%w: signature annotation is not valid base64", ErrMalformedSignature)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%w: signature annotation is empty", ErrMalformedSignature)
	}
	return raw, nil
}

// readBlob reads at most maxPayloadBytes+1 bytes of a blob; the registry
// client checks the digest once the blob is read to its end.
func (s *RegistrySource) readBlob(ctx context.Context, p *remote.Puller, ref name.Digest) ([]byte, error) {
	l, err := p.Layer(ctx, ref)
	if err != nil {
		return nil, err
	}
	rc, err := l.Compressed()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, s.cfg.maxPayloadBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) <= s.cfg.maxPayloadBytes {
		// Drain to EOF so the digest check runs (nothing is left unless
		// the registry lied about the size, which the check then reports).
		if _, err := io.Copy(io.Discard, rc); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Push stores one signature for img: it appends a layer holding payload,
// annotated with sig's base64, to img's signature manifest (creating the
// manifest, OCI media types as cosign writes them, when there is none) and
// moves the signature tag to the result. Existing signatures are kept, so
// several signers' signatures coexist; a layer identical to one already
// there (same payload and signature) is not added twice. Two concurrent
// pushes for the same image may lose one of the signatures: the registry
// offers no compare-and-swap on tags.
func (s *RegistrySource) Push(ctx context.Context, img name.Digest, payload, sig []byte) error {
	if err := s.push(ctx, img, payload, sig); err != nil {
		return fmt.Errorf("pushing signature for %s: %w", img, err)
	}
	return nil
}

func (s *RegistrySource) push(ctx context.Context, img name.Digest, payload, sig []byte) error {
	if len(payload) == 0 || len(sig) == 0 {
		return errors.New("empty payload or signature")
	}
	if int64(len(payload)) > s.cfg.maxPayloadBytes {
		return fmt.Errorf("payload of %d bytes is larger than the limit of %d", len(payload), s.cfg.maxPayloadBytes)
	}
	tag, err := s.sigTag(img)
	if err != nil {
		return err
	}
	opts := s.remote(ctx)
	layer := static.NewLayer(payload, SimpleSigningMediaType)
	layerDigest, err := layer.Digest()
	if err != nil {
		return fmt.Errorf("internal error: digest of payload: %w", err)
	}
	b64 := base64.StdEncoding.EncodeToString(sig)

	var base v1.Image
	desc, err := remote.Get(tag, opts...)
	switch {
	case err == nil:
		m, err := parseSigManifest(desc)
		if err != nil {
			return fmt.Errorf("%s: %w", tag, err)
		}
		for _, l := range m.Layers {
			if l.Digest == layerDigest && l.Annotations[SignatureAnnotation] == b64 {
				return nil
			}
		}
		if len(m.Layers) >= s.cfg.maxSignatures {
			return fmt.Errorf("%s already holds %d signatures, the limit", tag, len(m.Layers))
		}
		if base, err = desc.Image(); err != nil {
			return fmt.Errorf("reading %s: %w", tag, err)
		}
	case isNotFound(err):
		base = mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	default:
		return fmt.Errorf("reading %s: %w", tag, err)
	}
	out, err := mutate.Append(base, mutate.Addendum{
		Layer:       layer,
		Annotations: map[string]string{SignatureAnnotation: b64},
	})
	if err != nil {
		return fmt.Errorf("internal error: appending signature layer: %w", err)
	}
	if err := remote.Write(tag, out, opts...); err != nil {
		return fmt.Errorf("writing %s: %w", tag, err)
	}
	return nil
}

// Push stores one signature for img with a RegistrySource made from opts;
// see RegistrySource.Push.
func Push(ctx context.Context, img name.Digest, payload, sig []byte, opts ...Option) error {
	s, err := NewRegistrySource(opts...)
	if err != nil {
		return err
	}
	return s.Push(ctx, img, payload, sig)
}
