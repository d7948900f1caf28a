package v1beta1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AttestationAuthority declares a party whose signatures the cluster trusts,
// by its public key.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=aa,categories=kritis
// +kubebuilder:printcolumn:name="Key ID",type=string,JSONPath=`.spec.publicKeyId`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`,priority=1
// +kubebuilder:printcolumn:name="Keys",type=string,JSONPath=`.status.keyType`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AttestationAuthority struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AttestationAuthoritySpec   `json:"spec"`
	Status AttestationAuthorityStatus `json:"status,omitempty"`
}

// AttestationAuthoritySpec holds the authority's public keys: the single
// key of publicKeyData/publicKeyId, the list publicKeys, or both. A
// signature by any of them attests.
//
// +kubebuilder:validation:XValidation:rule="has(self.publicKeyData) || (has(self.publicKeys) && size(self.publicKeys) > 0)",message="set publicKeyData or at least one entry of publicKeys"
type AttestationAuthoritySpec struct {
	// NoteReference names the Grafeas note of the authority
	// (namespaces/<name>). Kept for compatibility; signatures are looked up
	// in the image's registry.
	// +optional
	NoteReference string `json:"noteReference,omitempty"`

	// A pattern, not format: byte: the API server's CEL evaluation decodes
	// byte fields with the URL alphabet and would refuse '+' and '/'.

	// PublicKeyData is the base64 encoding of a PEM public key file
	// ("PUBLIC KEY" or "RSA PUBLIC KEY"), as a KMS exports it:
	// $(cat publickey.txt | base64 | tr -d '\n').
	// The base64 of the DER key itself is accepted too.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=65536
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9+/]+={0,2}$`
	PublicKeyData string `json:"publicKeyData,omitempty"`

	// PublicKeyID is the key's id in the KMS. When a signature records a key
	// id, it must equal this one.
	// +optional
	PublicKeyID string `json:"publicKeyId,omitempty"`

	// PublicKeys lists further keys, for rotation: add the new key, sign
	// with it, then remove the old one. Changes apply from the next request.
	// +optional
	// +listType=atomic
	// +kubebuilder:validation:MaxItems=32
	PublicKeys []AuthorityPublicKey `json:"publicKeys,omitempty"`
}

// Key types of AuthorityPublicKey.
const (
	KeyTypePKIX = "PKIX"
	KeyTypePGP  = "PGP"
)

// AuthorityPublicKey is one key of an authority, in kritis's list form.
//
// +kubebuilder:validation:XValidation:rule="self.keyType == 'PKIX' ? has(self.pkixPublicKey) : has(self.asciiArmoredPgpPublicKey)",message="keyType PKIX needs pkixPublicKey; keyType PGP needs asciiArmoredPgpPublicKey"
type AuthorityPublicKey struct {
	// KeyID identifies the key. When a signature records a key id, it must
	// equal this one.
	// +optional
	KeyID string `json:"keyId,omitempty"`

	// KeyType is PKIX (a PEM public key) or PGP (an ASCII-armored key).
	// +kubebuilder:validation:Enum=PKIX;PGP
	KeyType string `json:"keyType"`

	// PkixPublicKey holds a PEM public key when keyType is PKIX.
	// +optional
	PkixPublicKey *PkixPublicKey `json:"pkixPublicKey,omitempty"`

	// AsciiArmoredPgpPublicKey holds the key when keyType is PGP.
	// +optional
	AsciiArmoredPgpPublicKey string `json:"asciiArmoredPgpPublicKey,omitempty"`
}

// PkixPublicKey is a PEM-encoded public key and, optionally, the one
// signature algorithm it may verify.
type PkixPublicKey struct {
	// PublicKeyPem is the PEM text ("-----BEGIN PUBLIC KEY-----...").
	// +kubebuilder:validation:MinLength=1
	PublicKeyPem string `json:"publicKeyPem"`

	// SignatureAlgorithm, when set, is the only scheme the key verifies,
	// e.g. ECDSA_P256_SHA256, RSA_PSS_2048_SHA256, RSA_SIGN_PKCS1_3072_SHA256
	// or ED25519. Empty: any scheme that fits the key.
	// +optional
	SignatureAlgorithm string `json:"signatureAlgorithm,omitempty"`
}

// AttestationAuthorityStatus reports whether the hook could use the key.
type AttestationAuthorityStatus struct {
	// ObservedGeneration is the generation the conditions describe.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions: Ready is True when the public key parsed; False, with the
	// cause in the message, when it did not.
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// KeyType lists the parsed keys' algorithms, such as ecdsa-p256.
	// +optional
	KeyType string `json:"keyType,omitempty"`
}

// +kubebuilder:object:root=true

// AttestationAuthorityList is a list of AttestationAuthority.
type AttestationAuthorityList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AttestationAuthority `json:"items"`
}

// GenericAttestationPolicy requires that images in its namespace be attested
// by every authority it names. An image passes when at least one policy of
// its namespace is satisfied.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:shortName=gap,categories=kritis
// +kubebuilder:printcolumn:name="Authorities",type=string,JSONPath=`.spec.attestationAuthorityNames`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type GenericAttestationPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec GenericAttestationPolicySpec `json:"spec"`
}

// GenericAttestationPolicySpec names the authorities that must attest.
type GenericAttestationPolicySpec struct {
	// AttestationAuthorityNames are AttestationAuthority objects in the
	// policy's namespace. Every one must attest an image. A policy that names
	// none admits nothing.
	// +optional
	AttestationAuthorityNames []string `json:"attestationAuthorityNames,omitempty"`

	// AdmissionAllowlistPatterns name images admitted without attestation
	// in this namespace. A pattern without '*' matches exactly; a trailing
	// '*' matches any run of characters without '/'.
	// +optional
	AdmissionAllowlistPatterns []AdmissionAllowlistPattern `json:"admissionAllowlistPatterns,omitempty"`

	// TagPolicy says what happens to images referenced by tag in this
	// namespace. Deny, the original's behaviour: they are denied. Pin: the
	// mutating webhook resolves each tag at the registry and rewrites the
	// reference to name:tag@sha256:<digest>, which is then verified, so the
	// node pulls exactly what was verified. Empty: the hook's --tag-policy
	// (Deny unless set). When the policies of a namespace disagree, Pin wins:
	// it only ever narrows a tag to a verified digest.
	// +optional
	// +kubebuilder:validation:Enum=Deny;Pin
	TagPolicy string `json:"tagPolicy,omitempty"`

	// ImmutableTagPatterns name images whose tags never move, such as
	// repositories with immutable tags in ACR (kritis pattern rules, matched
	// against the image as written, e.g. registry.example/app:*). Their tags
	// are resolved and verified by the resolved digest without rewriting the
	// spec.
	// +optional
	ImmutableTagPatterns []string `json:"immutableTagPatterns,omitempty"`
}

// Tag policies.
const (
	TagPolicyDeny = "Deny"
	TagPolicyPin  = "Pin"
)

// AdmissionAllowlistPattern is one allowlisted image name pattern.
type AdmissionAllowlistPattern struct {
	// NamePattern is matched against the image as written in the spec.
	// +kubebuilder:validation:MinLength=1
	NamePattern string `json:"namePattern"`
}

// AdmissionAllowlist (ACK) allowlists images cluster-wide or in one
// namespace, for system images that cannot be signed.
//
// +kubebuilder:object:root=true
// +kubebuilder:resource:scope=Cluster,categories=kritis
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AdmissionAllowlist struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec AdmissionAllowlistSpec `json:"spec"`
}

// AdmissionAllowlistSpec lists the patterns.
type AdmissionAllowlistSpec struct {
	// +optional
	Patterns []AllowlistPattern `json:"patterns,omitempty"`
}

// AllowlistPattern is an image name pattern, optionally limited to one
// namespace. Without '*' it matches exactly; a trailing '*' matches any run
// of characters without '/'; a '*' before the end matches one run of
// letters, digits, '_' and '-'.
type AllowlistPattern struct {
	// +kubebuilder:validation:MinLength=1
	NamePattern string `json:"namePattern"`
	// Namespace limits the pattern to one namespace; empty: every namespace.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// +kubebuilder:object:root=true

// AdmissionAllowlistList is a list of AdmissionAllowlist.
type AdmissionAllowlistList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []AdmissionAllowlist `json:"items"`
}

// +kubebuilder:object:root=true

// GenericAttestationPolicyList is a list of GenericAttestationPolicy.
type GenericAttestationPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GenericAttestationPolicy `json:"items"`
}
