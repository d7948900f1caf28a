package attest

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// Authority is a compiled attestation authority: a name for messages and the
// public keys whose signatures it accepts. Build it once when the
// AttestationAuthority changes, not per admission request.
type Authority struct {
	Name string
	Keys []PublicKey
}

// Reason classifies a verification outcome. Reasons are ordered: a larger
// value is a more informative failure (it got further towards a valid
// attestation), which is how Verify picks the one failure to report among
// several signatures.
type Reason int

const (
	// ReasonUnknown is the zero value; a Result carrying it is not valid.
	ReasonUnknown Reason = iota
	// NoSignature: the image has no signatures at all.
	NoSignature
	// MalformedSignature: every signature found was unreadable (bad base64
	// annotation, missing annotation, oversized payload).
	MalformedSignature
	// UntrustedKey: no signature verifies under any of the authority's
	// keys.
	UntrustedKey
	// InvalidPayload: a signature verifies, but its payload is not a
	// well-formed simple-signing document.
	InvalidPayload
	// WrongImage: a signature verifies, but names another repository.
	WrongImage
	// WrongDigest: a signature verifies and names this repository, but
	// another digest.
	WrongDigest
	// KeyIDMismatch: a signature verifies for this image, but records a key
	// id other than the authority key's id.
	KeyIDMismatch
	// Verified: a signature by the authority attests exactly this image.
	Verified
)

var reasonNames = [...]string{
	ReasonUnknown:      "Unknown",
	NoSignature:        "NoSignature",
	MalformedSignature: "MalformedSignature",
	UntrustedKey:       "UntrustedKey",
	InvalidPayload:     "InvalidPayload",
	WrongImage:         "WrongImage",
	WrongDigest:        "WrongDigest",
	KeyIDMismatch:      "KeyIDMismatch",
	Verified:           "Verified",
}

// String returns the reason's name, e.g. "WrongDigest", fit for a metric
// label or a structured log field.
func (r Reason) String() string {
	if r >= 0 && int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", int(r))
}

// Result is the decision for one image against one authority.
type Result struct {
	// OK is true only when a signature by one of the authority's keys
	// attests exactly this repository and digest.
	OK bool
	// Reason classifies the outcome; Verified when OK.
	Reason Reason
	// Detail is a short human message, e.g. "no signature found" or
	// "signature by demo-aa is for another digest (sha256:...)".
	Detail string
	// KeyID is the id of the authority key that verified the deciding
	// signature, if any and if it has one.
	KeyID string
	// Layer is the digest of the signature layer behind the decision, if
	// one is.
	Layer string
}

// Verify decides whether sigs attest img for auth. A signature counts only if
//
//   - it verifies under one of auth's keys (PublicKey.VerifyRaw: VerifyRaw,
//     restricted to the key's SignatureAlgorithm if it has one),
//   - its payload parses (ParsePayload),
//   - its docker-reference names img's repository (compared after
//     normalisation, so "alpine", "docker.io/library/alpine" and
//     "index.docker.io/library/alpine" are one repository; a tag in the
//     docker-reference is ignored),
//   - its digest equals img's digest, and
//   - when it records a key id and the verifying key has an ID, the two are
//     equal (exactly). An OpenPGP key without an ID has its fingerprint as
//     its ID (see NewPGPKey).
//
// One such signature is enough, whatever the others are. Otherwise the most
// informative failure is reported (see Reason). Verify does no I/O.
func Verify(img name.Digest, sigs []Signature, auth Authority) Result {
	authName := auth.Name
	if authName == "" {
		authName = "(unnamed)"
	}
	if len(auth.Keys) == 0 {
		return Result{Reason: UntrustedKey, Detail: fmt.Sprintf("authority %s has no usable public key", authName)}
	}
	if len(sigs) == 0 {
		return Result{Reason: NoSignature, Detail: "no signature found"}
	}
	best := Result{Reason: ReasonUnknown}
	consider := func(r Result) {
		if r.Reason > best.Reason {
			best = r
		}
	}
	malformed := 0
	for _, s := range sigs {
		if s.Err != nil {
			malformed++
			consider(Result{Reason: MalformedSignature, Detail: s.Err.Error(), Layer: s.Layer})
			continue
		}
		r := verifyOne(img, s, auth.Keys, authName)
		if r.OK {
			return r
		}
		consider(r)
	}
	if best.Reason == UntrustedKey && malformed > 0 {
		best.Detail += fmt.Sprintf(" (%d malformed signature(s) skipped)", malformed)
	}
	return best
}

func verifyOne(img name.Digest, s Signature, keys []PublicKey, authName string) Result {
	var (
		verifying []PublicKey
		problems  []string
	)
	for _, k := range keys {
		k.ID = k.keyID()
		err := k.VerifyRaw(s.Payload, s.Sig)
		if err == nil {
			verifying = append(verifying, k)
			continue
		}
		if p := keyProblem(k, err); p != "" {
			problems = append(problems, p)
		}
	}
	if len(verifying) == 0 {
		detail := "no signature by a key of authority " + authName
		if len(problems) > 0 {
			detail += " (" + truncate(strings.Join(problems, "; "), 400) + ")"
		}
		return Result{Reason: UntrustedKey, Detail: detail}
	}
	res := func(reason Reason, keyID, format string, args ...any) Result {
		return Result{Reason: reason, Detail: fmt.Sprintf(format, args...), KeyID: keyID, Layer: s.Layer}
	}
	p, err := ParsePayload(s.Payload)
	if err != nil {
		return res(InvalidPayload, verifying[0].ID, "signature by %s has an invalid payload: %s", authName, strings.TrimPrefix(err.Error(), ErrInvalidPayload.Error()+": "))
	}
	repo, err := p.Repository()
	if err != nil {
		return res(InvalidPayload, verifying[0].ID, "signature by %s has an invalid payload: %s", authName, strings.TrimPrefix(err.Error(), ErrInvalidPayload.Error()+": "))
	}
	if !sameRepository(repo, img.Context()) {
		return res(WrongImage, verifying[0].ID, "signature by %s is for another image (%s)", authName, truncate(p.DockerReference, 200))
	}
	if p.Digest != img.DigestStr() {
		return res(WrongDigest, verifying[0].ID, "signature by %s is for another digest (%s)", authName, p.Digest)
	}
	if p.KeyID == "" {
		return res(Verified, verifying[0].ID, "signed by %s", authName).ok()
	}
	for _, k := range verifying {
		if k.ID == "" || k.ID == p.KeyID {
			return res(Verified, k.ID, "signed by %s", authName).ok()
		}
	}
	return res(KeyIDMismatch, verifying[0].ID, "signature by %s records key id %q, but the authority's key id is %q", authName, truncate(p.KeyID, 200), verifying[0].ID)
}

// keyID is the id that key ids recorded in signatures are compared with:
// ID, or for an OpenPGP key without one, its fingerprint.
func (k PublicKey) keyID() string {
	if k.ID == "" {
		if p, ok := k.Key.(*PGPKey); ok {
			return p.Fingerprint()
		}
	}
	return k.ID
}

// keyProblem describes why a key could not verify a signature when the
// reason is the key rather than the signature: a misconfigured key (an
// unknown or unfitting signatureAlgorithm, an unsupported key) or an
// OpenPGP key that has expired or been revoked since it was read. A plain
// mismatch returns "".
func keyProblem(k PublicKey, err error) string {
	if errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrKeyExpired) && !errors.Is(err, ErrKeyRevoked) {
		return ""
	}
	name := k.ID
	if name == "" {
		name = k.String()
	}
	return "key " + truncate(name, 80) + ": " + strings.TrimPrefix(err.Error(), ErrBadSignature.Error()+": ")
}

func (r Result) ok() Result {
	r.OK = true
	return r
}

// sameRepository compares repositories after go-containerregistry's
// normalisation (Docker Hub defaults); registry host names are not case
// sensitive, repository paths are.
func sameRepository(a, b name.Repository) bool {
	return strings.EqualFold(a.RegistryStr(), b.RegistryStr()) && a.RepositoryStr() == b.RepositoryStr()
}

// Check reads img's signatures from src and decides them against each
// authority, in order. Reading is done once, however many authorities there
// are. An error means the signatures could not be read: the caller must
// treat it as a denial.
func Check(ctx context.Context, src Source, img name.Digest, auths ...Authority) ([]Result, error) {
	sigs, err := src.Signatures(ctx, img)
	if err != nil {
		return nil, err
	}
	out := make([]Result, len(auths))
	for i, a := range auths {
		out[i] = Verify(img, sigs, a)
	}
	return out, nil
}
