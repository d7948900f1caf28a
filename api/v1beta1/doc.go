// Package v1beta1 holds the kritis.grafeas.io/v1beta1 API that operators write:
// AttestationAuthority (who may attest) and GenericAttestationPolicy (which
// authorities must attest images in a namespace).
//
// The field names are those of kritis as shipped in Alibaba Cloud ACK, so the
// YAML of the original's documentation applies unchanged.
//
// +kubebuilder:object:generate=true
// +groupName=kritis.grafeas.io
package v1beta1
