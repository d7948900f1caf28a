// Package policy keeps the compiled form of the policies and authorities an
// operator wrote, and decides whether an image satisfies them.
//
// The CRDs are what a person writes; the compiled form is what a request
// reads. Keys are parsed once, when an object is added or changed in the
// informer cache, never on the request path; a request takes a snapshot of
// its namespace under a read lock. A key that does not parse is kept as an
// error on its authority, so that every request relying on it is denied
// with that cause.
package policy

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/internal/allowlist"
	"github.com/kritis-project/kritis/pkg/attest"
)

// Authority is an AttestationAuthority ready for verification.
type Authority struct {
	attest.Authority
	// Err says why the authority cannot verify anything (a bad key); nil
	// when it can.
	Err error
}

// Policy is a GenericAttestationPolicy ready for evaluation.
type Policy struct {
	Name        string
	Authorities []string
	// Allowlist holds the policy's admissionAllowlistPatterns.
	Allowlist []allowlist.Rule
	// PatternErrors describe patterns that did not compile; they match
	// nothing, and denials mention them.
	PatternErrors []string
	// TagPolicy is Deny, Pin or "" (the store's default).
	TagPolicy string
	// Immutable holds the policy's immutableTagPatterns.
	Immutable []allowlist.Rule
}

// Namespace is what applies to one namespace at one moment.
type Namespace struct {
	Name        string
	Policies    []Policy
	Authorities map[string]*Authority
	// Allowlist holds the patterns of the namespace's policies and the
	// cluster's AdmissionAllowlists that apply to it.
	Allowlist *allowlist.Set
	// Pin is true when tags are to be pinned to digests here.
	Pin bool
	// Immutable matches images whose tags never move.
	Immutable *allowlist.Set
}

// Store holds the compiled policies and authorities of every namespace,
// fed by informer events.
type Store struct {
	mu          sync.RWMutex
	policies    map[string]map[string]Policy
	authorities map[string]map[string]*Authority
	cluster     map[string][]allowlist.Rule // AdmissionAllowlist name -> rules
	// snapshots caches what Namespace returns, built once per change:
	// a change to a namespace's objects drops its snapshot, a change to
	// the cluster's allowlists or defaults drops them all.
	snapshots map[string]*Namespace
	// defaultTagPolicy applies where no policy sets one.
	defaultTagPolicy string
	synced           []toolscache.InformerSynced
}

// NewStore returns an empty store. Call Watch to feed it.
func NewStore() *Store {
	return &Store{
		policies:    map[string]map[string]Policy{},
		authorities: map[string]map[string]*Authority{},
		cluster:     map[string][]allowlist.Rule{},
		snapshots:   map[string]*Namespace{},
	}
}

// SetDefaultTagPolicy sets the tag policy of namespaces whose policies name
// none (v1beta1.TagPolicyDeny or TagPolicyPin).
func (s *Store) SetDefaultTagPolicy(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.defaultTagPolicy = p
	clear(s.snapshots)
}

// Watch registers the store with the informers of c for both kinds.
func (s *Store) Watch(ctx context.Context, c cache.Informers) error {
	aa, err := c.GetInformer(ctx, &v1beta1.AttestationAuthority{})
	if err != nil {
		return fmt.Errorf("watching AttestationAuthority: %w", err)
	}
	r1, err := aa.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.putAuthority(o) },
		UpdateFunc: func(_, o any) { s.putAuthority(o) },
		DeleteFunc: func(o any) { s.deleteAuthority(o) },
	})
	if err != nil {
		return fmt.Errorf("watching AttestationAuthority: %w", err)
	}
	gap, err := c.GetInformer(ctx, &v1beta1.GenericAttestationPolicy{})
	if err != nil {
		return fmt.Errorf("watching GenericAttestationPolicy: %w", err)
	}
	r2, err := gap.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.putPolicy(o) },
		UpdateFunc: func(_, o any) { s.putPolicy(o) },
		DeleteFunc: func(o any) { s.deletePolicy(o) },
	})
	if err != nil {
		return fmt.Errorf("watching GenericAttestationPolicy: %w", err)
	}
	al, err := c.GetInformer(ctx, &v1beta1.AdmissionAllowlist{})
	if err != nil {
		return fmt.Errorf("watching AdmissionAllowlist: %w", err)
	}
	r3, err := al.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { s.putAllowlist(o) },
		UpdateFunc: func(_, o any) { s.putAllowlist(o) },
		DeleteFunc: func(o any) { s.deleteAllowlist(o) },
	})
	if err != nil {
		return fmt.Errorf("watching AdmissionAllowlist: %w", err)
	}
	s.mu.Lock()
	s.synced = []toolscache.InformerSynced{r1.HasSynced, r2.HasSynced, r3.HasSynced}
	s.mu.Unlock()
	return nil
}

// Synced reports whether the store has seen the initial list of both kinds.
// Until then the hook cannot know which policies apply and must deny.
func (s *Store) Synced() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if len(s.synced) == 0 {
		return false
	}
	for _, f := range s.synced {
		if !f() {
			return false
		}
	}
	return true
}

// MarkSynced is for stores filled by hand (tests, the CLI's offline check).
func (s *Store) MarkSynced() {
	s.mu.Lock()
	s.synced = []toolscache.InformerSynced{func() bool { return true }}
	s.mu.Unlock()
}

// ErrNotSynced is returned while the informer caches are still filling.
var ErrNotSynced = fmt.Errorf("policy cache is not synced yet")

// Namespace returns the policies and authorities that apply to ns. The
// result is shared between requests and must not be modified.
func (s *Store) Namespace(ns string) (*Namespace, error) {
	if !s.Synced() {
		return nil, ErrNotSynced
	}
	s.mu.RLock()
	snap, ok := s.snapshots[ns]
	s.mu.RUnlock()
	if ok {
		return snap, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if snap, ok := s.snapshots[ns]; ok {
		return snap, nil
	}
	snap = s.build(ns)
	s.snapshots[ns] = snap
	return snap, nil
}

// build assembles the snapshot of ns; s.mu must be held.
func (s *Store) build(ns string) *Namespace {
	out := &Namespace{Name: ns, Authorities: map[string]*Authority{}}
	var rules, immutable []allowlist.Rule
	explicit := false
	// Sorted: messages and tests want a stable order, and the first
	// matching allowlist rule is the one reported.
	for _, name := range slices.Sorted(maps.Keys(s.policies[ns])) {
		p := s.policies[ns][name]
		out.Policies = append(out.Policies, p)
		rules = append(rules, p.Allowlist...)
		immutable = append(immutable, p.Immutable...)
		switch p.TagPolicy {
		case v1beta1.TagPolicyPin:
			out.Pin = true
			explicit = true
		case v1beta1.TagPolicyDeny:
			explicit = true
		}
	}
	if !explicit && len(out.Policies) > 0 && s.defaultTagPolicy == v1beta1.TagPolicyPin {
		out.Pin = true
	}
	for _, name := range slices.Sorted(maps.Keys(s.cluster)) {
		rules = append(rules, s.cluster[name]...)
	}
	out.Allowlist = allowlist.NewSet(rules...)
	out.Immutable = allowlist.NewSet(immutable...)
	maps.Copy(out.Authorities, s.authorities[ns])
	return out
}

// PutAllowlist compiles an AdmissionAllowlist and stores it.
func (s *Store) PutAllowlist(al *v1beta1.AdmissionAllowlist) {
	var rules []allowlist.Rule
	for _, p := range al.Spec.Patterns {
		pat, err := allowlist.Compile(p.NamePattern, allowlist.ACK)
		if err != nil {
			continue // matches nothing; the CRD schema rejects empty patterns
		}
		rules = append(rules, allowlist.Rule{Pattern: pat, Namespace: p.Namespace, Source: "AdmissionAllowlist " + al.Name})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cluster[al.Name] = rules
	clear(s.snapshots)
}

func (s *Store) putAllowlist(o any) {
	if al, ok := o.(*v1beta1.AdmissionAllowlist); ok {
		s.PutAllowlist(al)
	}
}

func (s *Store) deleteAllowlist(o any) {
	_, name, ok := key(o)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cluster, name)
	clear(s.snapshots)
}

// PutAuthority compiles aa and stores it, replacing any earlier version.
func (s *Store) PutAuthority(aa *v1beta1.AttestationAuthority) {
	compiled := Compile(aa)
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.snapshots, aa.Namespace)
	m := s.authorities[aa.Namespace]
	if m == nil {
		m = map[string]*Authority{}
		s.authorities[aa.Namespace] = m
	}
	m[aa.Name] = compiled
}

// PutPolicy stores gap, replacing any earlier version.
func (s *Store) PutPolicy(gap *v1beta1.GenericAttestationPolicy) {
	p := Policy{Name: gap.Name, Authorities: slices.Clone(gap.Spec.AttestationAuthorityNames), TagPolicy: gap.Spec.TagPolicy}
	for i, pattern := range gap.Spec.ImmutableTagPatterns {
		pat, err := allowlist.Compile(pattern, allowlist.Kritis)
		if err != nil {
			p.PatternErrors = append(p.PatternErrors, fmt.Sprintf("spec.immutableTagPatterns[%d]: %v", i, err))
			continue
		}
		p.Immutable = append(p.Immutable, allowlist.Rule{Pattern: pat, Namespace: gap.Namespace, Source: "GenericAttestationPolicy " + gap.Name})
	}
	for i, ap := range gap.Spec.AdmissionAllowlistPatterns {
		pat, err := allowlist.Compile(ap.NamePattern, allowlist.Kritis)
		if err != nil {
			p.PatternErrors = append(p.PatternErrors, fmt.Sprintf("spec.admissionAllowlistPatterns[%d]: %v", i, err))
			continue
		}
		p.Allowlist = append(p.Allowlist, allowlist.Rule{Pattern: pat, Namespace: gap.Namespace, Source: "GenericAttestationPolicy " + gap.Name})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.snapshots, gap.Namespace)
	m := s.policies[gap.Namespace]
	if m == nil {
		m = map[string]Policy{}
		s.policies[gap.Namespace] = m
	}
	m[gap.Name] = p
}

func (s *Store) putAuthority(o any) {
	if aa, ok := o.(*v1beta1.AttestationAuthority); ok {
		s.PutAuthority(aa)
	}
}

func (s *Store) putPolicy(o any) {
	if gap, ok := o.(*v1beta1.GenericAttestationPolicy); ok {
		s.PutPolicy(gap)
	}
}

func (s *Store) deleteAuthority(o any) {
	ns, name, ok := key(o)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.snapshots, ns)
	delete(s.authorities[ns], name)
	if len(s.authorities[ns]) == 0 {
		delete(s.authorities, ns)
	}
}

func (s *Store) deletePolicy(o any) {
	ns, name, ok := key(o)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.snapshots, ns)
	delete(s.policies[ns], name)
	if len(s.policies[ns]) == 0 {
		delete(s.policies, ns)
	}
}

// key reads namespace and name from a deleted object or its tombstone.
func key(o any) (ns, name string, ok bool) {
	if t, isTomb := o.(toolscache.DeletedFinalStateUnknown); isTomb {
		ns, name, err := toolscache.SplitMetaNamespaceKey(t.Key)
		return ns, name, err == nil
	}
	type named interface {
		GetNamespace() string
		GetName() string
	}
	n, ok := o.(named)
	if !ok {
		return "", "", false
	}
	return n.GetNamespace(), n.GetName(), true
}

// Compile parses the key material of aa: the key of publicKeyData and
// every entry of publicKeys. It never fails: a bad key is recorded in Err,
// to be reported by every request that needs the authority and in the
// authority's status. One bad key makes the whole authority unusable, so
// that a typo in a rotation is noticed rather than silently ignored.
func Compile(aa *v1beta1.AttestationAuthority) *Authority {
	out := &Authority{Authority: attest.Authority{Name: aa.Name}}
	var errs []error
	if aa.Spec.PublicKeyData != "" {
		pub, err := attest.DecodePublicKeyData(aa.Spec.PublicKeyData)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.publicKeyData: %w", err))
		} else {
			out.Keys = append(out.Keys, attest.PublicKey{ID: aa.Spec.PublicKeyID, Key: pub})
		}
	}
	for i, k := range aa.Spec.PublicKeys {
		key, err := compileKey(k)
		if err != nil {
			errs = append(errs, fmt.Errorf("spec.publicKeys[%d]: %w", i, err))
			continue
		}
		out.Keys = append(out.Keys, key)
	}
	switch {
	case len(errs) > 0:
		out.Err = errors.Join(errs...)
		out.Keys = nil
	case len(out.Keys) == 0:
		out.Err = errors.New("no public key: set spec.publicKeyData or spec.publicKeys")
	}
	return out
}

func compileKey(k v1beta1.AuthorityPublicKey) (attest.PublicKey, error) {
	switch k.KeyType {
	case v1beta1.KeyTypePKIX:
		if k.PkixPublicKey == nil {
			return attest.PublicKey{}, errors.New("keyType PKIX needs pkixPublicKey")
		}
		return attest.NewPKIXKey(k.KeyID, k.PkixPublicKey.PublicKeyPem, k.PkixPublicKey.SignatureAlgorithm)
	case v1beta1.KeyTypePGP:
		return attest.NewPGPKey(k.KeyID, k.AsciiArmoredPgpPublicKey)
	}
	return attest.PublicKey{}, fmt.Errorf("keyType %q is neither PKIX nor PGP", k.KeyType)
}
