// Package attest finds and checks image signatures: the evidence the
// admission hook needs before it lets an image run.
//
// # What an attestation is
//
// An image is attested by an authority when the image's registry holds a
// signature that
//
//  1. verifies under one of the authority's public keys, over
//  2. a simple-signing payload naming the image's repository and
//  3. the image's digest,
//  4. and, if the payload records a key id, that id is the key's.
//
// A signature for another repository, another digest, or by another key
// never counts, however valid it is otherwise. One good signature is enough;
// the others may be anything. Verify makes this decision and, when it says
// no, reports the most informative reason (a signature by the right key for
// the wrong digest says more than "no signature") as a Reason and a short
// Detail fit for a denial message.
//
// # Where signatures live
//
// Signatures are stored exactly as cosign stores them, so the cosign CLI and
// this package read each other's signatures: for image R@sha256:H, the
// manifest tagged "sha256-H.sig" in repository R, with one layer per
// signature. A layer's blob (media type SimpleSigningMediaType) is the
// signed payload; its annotation SignatureAnnotation holds the base64
// signature. RegistrySource reads such manifests (Signatures) and appends to
// them (Push). Reading treats the manifest as hostile input until a
// signature verifies: the number of layers and the size of each payload are
// capped, and a missing tag is "no signatures" while every other registry
// failure is an error, so a caller can fail closed. Source is the interface
// behind which other stores (OCI 1.1 referrers, Grafeas) can come later.
//
// The payload is the "simple signing" JSON document of containers/image:
//
//	{"critical":{"identity":{"docker-reference":"index.docker.io/library/alpine"},
//	             "image":{"docker-manifest-digest":"sha256:..."},
//	             "type":"atomic container signature"},
//	 "optional":{"kritis.grafeas.io/key-id":"..."}}
//
// NewPayload writes type "atomic container signature", as kritis did;
// cosign writes "cosign container image signature". ParsePayload accepts
// both and rejects any other type (`cosign verify` does not look at the type,
// so it verifies our payloads too). docker-reference is the repository's
// full name, as cosign writes it. The key id, when the signer knows one,
// goes in the signed "optional" section under KeyIDAnnotation: inside the
// signed bytes, so it cannot be altered, and where cosign's `-a key=value`
// annotations go, so the cosign CLI can record it as well.
//
// # Keys and signature schemes
//
// Authorities publish keys as base64 of a PEM file (DecodePublicKeyData). A
// "PUBLIC KEY" (PKIX) or "RSA PUBLIC KEY" (PKCS#1) block is read as is. A
// "CERTIFICATE" block is accepted too, but only as a container of a public
// key: its validity dates, issuer and usages are not checked, because the
// authority trusts the key, not a certificate authority; an expired
// certificate therefore still works, which is what a user who pasted the
// wrong file of a KMS export expects. Private keys are refused with a
// message saying so, and no error ever repeats key bytes.
//
// Accepted schemes (VerifyRaw; SignRaw makes the first of each):
//
//   - ECDSA P-256 with SHA-256; P-384 with SHA-384 or SHA-256; P-521 with
//     SHA-512 or SHA-256. ASN.1 DER signatures. The curve's own hash is what
//     cosign 2.5 and later and sigstore's algorithm registry use; SHA-256 is
//     what earlier cosign releases used for every curve (sigstore-go still
//     accepts it for compatibility), so both are accepted.
//   - RSA of 2048 to 8192 bits, PKCS#1 v1.5 with SHA-256 (cosign's choice)
//     or PSS with SHA-256 and any salt length.
//   - Ed25519, pure or Ed25519ph (cosign 2.5 and later sign Ed25519 keys
//     with Ed25519ph by default).
//
// DSA, other curves (P-224, secp256k1), Ed448 and smaller RSA keys are
// refused when the key is read, not when a signature is checked.
//
// # One scheme per key (signatureAlgorithm)
//
// A spec.publicKeys entry of keyType PKIX may name the one scheme its key
// verifies (pkixPublicKey.signatureAlgorithm), with kritis's names:
// RSA_PSS_{2048,3072,4096}_SHA256, RSA_PSS_4096_SHA512,
// RSA_SIGN_PKCS1_{2048,3072,4096}_SHA256, RSA_SIGN_PKCS1_4096_SHA512,
// ECDSA_P256_SHA256, ECDSA_P384_SHA384, ECDSA_P521_SHA512 (and their
// EC_SIGN_* spellings), plus ED25519 (pure Ed25519; EC_SIGN_ED25519 is the
// same) and ED25519_PH (Ed25519ph, cosign 2.5+'s choice). See
// SignatureAlgorithms. NewPKIXKey checks that the name is known (case is
// ignored) and fits the key exactly: the key type, the curve, and for RSA
// the modulus size (RSA_PSS_2048_SHA256 refuses a 3072-bit key). A
// restricted key then accepts that scheme only, through PublicKey.VerifyRaw
// and so through Verify: PSS is not PKCS#1 v1.5, SHA-512 is not SHA-256,
// and ECDSA_P384_SHA384 no longer accepts the SHA-256 signatures of older
// cosign releases. RSA with SHA-512 (RSA_PSS_4096_SHA512,
// RSA_SIGN_PKCS1_4096_SHA512) goes beyond the unrestricted schemes: it
// verifies only on a key restricted to it. A PublicKey built by hand with a name that is unknown or does not
// fit verifies nothing (fail closed), and Verify names the problem in its
// Detail. SignRaw signs any of these schemes with WithSignatureAlgorithm.
//
// # OpenPGP keys
//
// A spec.publicKeys entry of keyType PGP holds an ASCII-armored OpenPGP
// public key (`gpg --export --armor KEY`), read by NewPGPKey with
// github.com/ProtonMail/go-crypto. Its signatures are stored like all
// others (the cosign layout above); the signature bytes are a detached
// OpenPGP signature over the payload bytes (`gpg --detach-sign`, or
// SignPGP), binary or ASCII-armored: both verify. What is refused:
//
//   - when the key is read: empty input, anything but exactly one "PGP
//     PUBLIC KEY BLOCK" holding exactly one primary key (one key per
//     publicKeys entry, so each has its own id), private key blocks or
//     secret key material ("holds a private key"), keys revoked or expired
//     at that moment, and keys without a signing key of an accepted kind
//     (primary key or subkey with the signing flag; RSA 2048 to 8192 bits,
//     ECDSA on NIST or Brainpool curves, EdDSA, and go-crypto's
//     post-quantum schemes; not DSA);
//   - when a signature is checked: signatures by another key, over other
//     bytes, in text mode (the signature must cover the exact bytes), with
//     MD5, SHA-1 or RIPEMD-160, expired signatures, and signatures by a key
//     or subkey that has expired or been revoked by now (Verify's Detail
//     then says "the key has expired" or "... revoked"). Revocations and
//     expiry dates are those of the key as published in the authority:
//     update the authority to revoke. A signature dated up to PGPClockSkew
//     in the future (a signer whose clock runs ahead) still counts.
//
// Key ids: an OpenPGP key without a keyId takes its fingerprint as its id,
// in upper-case hex without spaces, as kritis and Binary Authorization do;
// a signature that records a key id must then record that fingerprint. Ids
// are compared exactly. KeyAlgorithm reports "pgp-" and the primary key's
// kind ("pgp-rsa-3072", "pgp-ed25519"); KeyFingerprint reports
// "openpgp:<FINGERPRINT>".
//
// # Use
//
// Compile authorities once, read signatures once per image, decide per
// authority:
//
//	key, err := attest.NewPublicKey(aa.Spec.PublicKeyID, aa.Spec.PublicKeyData)
//	// spec.publicKeys entries:
//	k2, err := attest.NewPKIXKey(e.KeyID, e.PkixPublicKey.PublicKeyPem, e.PkixPublicKey.SignatureAlgorithm)
//	k3, err := attest.NewPGPKey(e.KeyID, e.AsciiArmoredPgpPublicKey)
//	auth := attest.Authority{Name: aa.Name, Keys: []attest.PublicKey{key, k2, k3}}
//	src, err := attest.NewRegistrySource(attest.WithKeychain(kc))
//	results, err := attest.Check(ctx, src, img, auth) // err: deny, registry trouble
//	if !results[0].OK { deny(results[0].Detail) }
//
// Signing, as the CLI does it:
//
//	payload, _ := attest.NewPayload(img.Context(), img.DigestStr(), keyID)
//	sig, _ := attest.SignRaw(signer, payload) // or attest.SignPGP(entity, payload)
//	err := src.Push(ctx, img, payload, sig)
//
// The package logs nothing and keeps no state between calls; in particular
// it opens a fresh registry session per Signatures call, so that one failed
// handshake is never remembered. Callers that want caching put it in front
// of Source.
package attest
