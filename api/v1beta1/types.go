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
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type AttestationAuthority struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	Spec   AttestationAuthoritySpec   `json:"spec"`
	Status AttestationAuthorityStatus `json:"status,omitempty"`
}

// AttestationAuthoritySpec holds the authority's public key.
type AttestationAuthoritySpec struct {
	// NoteReference names the Grafeas note of the authority
	// (namespaces/<name>). Kept for compatibility; signatures are looked up
	// in the image's registry.
	// +optional
	NoteReference string `json:"noteReference,omitempty"`

	// PublicKeyData is the base64 encoding of a PEM public key file
	// ("PUBLIC KEY" or "RSA PUBLIC KEY"), as a KMS exports it:
	// $(cat publickey.txt | base64 | tr -d '\n').
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:Format=byte
	PublicKeyData string `json:"publicKeyData"`

	// PublicKeyID is the key's id in the KMS. When a signature records a key
	// id, it must equal this one.
	// +optional
	PublicKeyID string `json:"publicKeyId,omitempty"`
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

	// KeyType is the parsed key's algorithm, such as ECDSA P-256.
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
}

// +kubebuilder:object:root=true

// GenericAttestationPolicyList is a list of GenericAttestationPolicy.
type GenericAttestationPolicyList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []GenericAttestationPolicy `json:"items"`
}
