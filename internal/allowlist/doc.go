// Package allowlist decides whether an image named in a pod spec is exempt
// from signature verification because an operator allowlisted it.
//
// Two kinds of object carry allowlist patterns, and they speak slightly
// different dialects:
//
//   - GenericAttestationPolicy.spec.admissionAllowlistPatterns[].namePattern
//     (the Kritis dialect). A pattern without '*' matches exactly one string.
//     A pattern may end in a single '*', which matches any run of characters,
//     possibly empty, that contains no '/'. A '*' anywhere else is rejected
//     by Compile: upstream Kritis never gave it a meaning, and treating it as
//     a literal would silently produce a rule that can never match, which an
//     operator would only notice when pods are denied.
//
//   - AdmissionAllowlist.spec.patterns[] (the ACK dialect), a cluster-scoped
//     object whose patterns may be limited to one namespace. Exact and
//     trailing '*' patterns behave as in the Kritis dialect. A '*' before the
//     end matches one non-empty run of ASCII letters, digits, '_' and '-', so
//     it stands for a label inside a host name or a word inside a path
//     segment, never for '.', ':', '@' or '/'. Two adjacent '*' are rejected.
//
// In both dialects every character other than '*' is literal: '.', '?', '['
// and '+' mean themselves, and a pattern always covers the whole image
// string, never a prefix or a substring of it. Because no wildcard matches
// '/', a wildcard in the host part of a pattern can only match within the
// host: "*.trusted.example/org/*" admits "eu.trusted.example/org/app" but not
// "evil.example/x.trusted.example/org/app".
//
// A trailing '*' does match ':' and '@'. "gcr.io/app*" therefore admits
// "gcr.io/app:1", "gcr.io/app@sha256:..." and also "gcr.io/app-other";
// operators who mean one repository should write "gcr.io/app:*" or
// "gcr.io/app@*".
//
// Images are matched as written in the pod spec; nothing is lower-cased or
// normalised. The single exception exists so that operators can write
// fully-qualified patterns for Docker Hub images that pods name by their
// short form: when an image parses as a Docker Hub reference, its
// "docker.io/..." and "index.docker.io/..." spellings, with the tag or digest
// exactly as written, are tried as well. "docker.io/library/alpine:*" thus
// admits "alpine:3.11". This mirrors how containerd resolves short names; a
// runtime configured to search other registries for short names would pull
// something else, and on such nodes operators should not rely on it. The
// expansion never runs the other way: the pattern "alpine:*" does not admit
// "docker.io/library/alpine:3.11".
//
// An empty image, or one containing a byte outside printable ASCII (a space,
// a control character, anything non-ASCII), is not a valid reference and
// never matches.
//
// Patterns are compiled once, when the policy objects are read, into a Set
// that the hook consults on every request. Matching uses no regular
// expressions and never backtracks: its cost is bounded by the length of the
// image times the length of the pattern, whatever either contains. Patterns
// without a mid-pattern '*' reduce to a prefix comparison.
package allowlist
