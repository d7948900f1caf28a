// Package admission turns an AdmissionReview into a decision.
//
// One request crosses four hops: the handler decodes the object and lists
// its images (package workload), looks up what applies to the namespace
// (package policy), fetches each image's signatures once (package attest)
// and lets the policies judge them. Every error on that path denies, and
// the denial says which image failed, where it is in the object, and why.
package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kritis-project/kritis/internal/policy"
	"github.com/kritis-project/kritis/internal/reference"
	"github.com/kritis-project/kritis/internal/workload"
)

// Policies gives the compiled policies of a namespace.
type Policies interface {
	Namespace(ns string) (*policy.Namespace, error)
}

// EventRecorder records Kubernetes events (events.k8s.io/v1); the
// controller-runtime manager's recorder is one.
type EventRecorder interface {
	Eventf(regarding, related runtime.Object, eventtype, reason, action, note string, args ...any)
}

// Event reasons, as ACK's hook records them.
const (
	ReasonFailed     = "FailedKritisAdmission"
	ReasonDryRun     = "DryRunKritisAdmission"
	ReasonBreakglass = "BreakglassKritisAdmission"
)

// BreakglassAnnotation on an object admits it without verification, with a
// warning and an event naming the user.
const BreakglassAnnotation = "kritis.grafeas.io/breakglass"

// Handler decides admission requests. It is safe for concurrent use.
type Handler struct {
	settings
}

// settings are what NewHandler and NewPinner take; the pinner uses the
// ones that are not about decisions.
type settings struct {
	policies   Policies
	registries Registries
	timeout    time.Duration
	parallel   int
	dryRun     bool
	events     EventRecorder
	metrics    *Metrics
	// breakglassGroups, when set, are the groups whose members may use
	// the breakglass annotation.
	breakglassGroups []string
	log              logr.Logger
}

func newSettings(p Policies, r Registries, opts []Option) settings {
	s := settings{policies: p, registries: r, timeout: 8 * time.Second, parallel: 8, log: logr.Discard()}
	for _, o := range opts {
		o(&s)
	}
	if s.parallel < 1 {
		s.parallel = 1
	}
	return s
}

// Option configures a Handler or a Pinner.
type Option func(*settings)

// WithTimeout bounds the work of one request. It must be shorter than the
// webhook's timeoutSeconds, so that the hook denies with a cause rather
// than the API server giving up on it.
func WithTimeout(d time.Duration) Option { return func(h *settings) { h.timeout = d } }

// WithParallelism bounds how many registries are queried at once per request.
func WithParallelism(n int) Option { return func(h *settings) { h.parallel = n } }

// WithDryRun admits what would be denied, with a warning and an event of
// reason DryRunKritisAdmission: for trying a policy on a live namespace.
func WithDryRun(on bool) Option { return func(h *settings) { h.dryRun = on } }

// WithBreakglassGroups honours the breakglass annotation only from members
// of groups, and from the cluster's controllers (service accounts of
// kube-system) creating Pods from a template that already passed admission.
// Without it anyone who may create an object may break the glass, as in
// ACK's hook; RBAC cannot restrict annotations.
func WithBreakglassGroups(groups ...string) Option {
	return func(h *settings) { h.breakglassGroups = groups }
}

// WithEventRecorder records an event for each denial, dry-run failure and
// breakglass use. Events are never recorded for dry-run requests: the
// webhook declares that it has no side effects.
func WithEventRecorder(r EventRecorder) Option { return func(h *settings) { h.events = r } }

// WithLogger sets the logger; the default discards.
func WithLogger(l logr.Logger) Option { return func(h *settings) { h.log = l } }

// NewHandler returns a Handler reading policies from p and signatures (and
// tags of immutable repositories) through r.
func NewHandler(p Policies, r Registries, opts ...Option) *Handler {
	return &Handler{newSettings(p, r, opts)}
}

var _ admission.Handler = (*Handler)(nil)

// Handle implements admission.Handler.
func (h *Handler) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	log := h.log.WithValues("uid", req.UID, "namespace", req.Namespace, "kind", req.Kind.Kind, "name", req.Name, "operation", req.Operation)
	resp, decision := h.decide(ctx, req)
	h.metrics.decision("validate", decision, start)
	if resp.Allowed {
		log.V(1).Info("admitted", "reason", resp.Result.Message)
	} else {
		log.Info("denied", "reason", resp.Result.Message)
	}
	return resp
}

// Decisions, the label values of kritis_admission_decisions_total.
const (
	decisionAdmitted   = "admitted"
	decisionDenied     = "denied"
	decisionDryRun     = "dry_run"
	decisionBreakglass = "breakglass"
)

// decide answers req and says which kind of decision the answer is.
func (h *Handler) decide(ctx context.Context, req admission.Request) (admission.Response, string) {
	gvk, obj, ns, early := prepare(req, h.policies)
	if early != nil {
		return *early, decisionOf(*early)
	}
	if len(ns.Policies) == 0 {
		return admission.Allowed(fmt.Sprintf("no GenericAttestationPolicy in namespace %s", req.Namespace)), decisionAdmitted
	}
	if len(obj.Images) == 0 {
		return admission.Allowed("the object runs no image"), decisionAdmitted
	}
	if stored := storedImages(req, gvk); stored != nil && subset(obj.Images, stored) {
		// Scaling, relabelling or a rollout restart must keep working
		// even if a signature has since gone: the running images were
		// admitted when they were set.
		return admission.Allowed("the update changes no image"), decisionAdmitted
	}
	var warnings []string
	if why, ok := obj.Meta.Annotations[BreakglassAnnotation]; ok && !h.mayBreakGlass(req.UserInfo.Groups) {
		warnings = append(warnings, fmt.Sprintf("breakglass ignored: %s is not in a group allowed to use %s (%s)", req.UserInfo.Username, BreakglassAnnotation, strings.Join(h.breakglassGroups, ", ")))
	} else if ok {
		msg := fmt.Sprintf("breakglass: %s admitted without image verification (annotation %s=%s), by %s", objectName(req, obj), BreakglassAnnotation, reference.Display(why), req.UserInfo.Username)
		h.event(req, obj, "Warning", ReasonBreakglass, "Admit", msg)
		return admission.Allowed(msg).WithWarnings(msg), decisionBreakglass
	}

	ctx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	failures := h.check(ctx, ns, h.registries.For(req.Namespace, obj), obj.Images)
	if len(failures) == 0 {
		return admission.Allowed(fmt.Sprintf("every image is attested under the policies of namespace %s", req.Namespace)).WithWarnings(warnings...), decisionAdmitted
	}
	msg := denial(failures)
	if len(warnings) > 0 {
		msg += "\n" + strings.Join(warnings, "\n")
	}
	if h.dryRun {
		first, _, _ := strings.Cut(msg, "\n")
		h.event(req, obj, "Warning", ReasonDryRun, "Admit", "dry run, would deny: "+msg)
		return admission.Allowed("dry run: " + msg).WithWarnings(append(warnings, "kritis dry run, would deny: "+first)...), decisionDryRun
	}
	h.event(req, obj, "Warning", ReasonFailed, "Deny", msg)
	return admission.Denied(msg), decisionDenied
}

func decisionOf(r admission.Response) string {
	if r.Allowed {
		return decisionAdmitted
	}
	return decisionDenied
}

// controllersGroup holds the service accounts of kube-system, as which the
// cluster's controllers create Pods from templates.
const controllersGroup = "system:serviceaccounts:kube-system"

func (h *Handler) mayBreakGlass(userGroups []string) bool {
	if len(h.breakglassGroups) == 0 {
		return true
	}
	for _, g := range userGroups {
		if g == controllersGroup || slices.Contains(h.breakglassGroups, g) {
			return true
		}
	}
	return false
}

// prepare does what both webhooks do first: it decodes the object of a
// CREATE or UPDATE and finds the policies of its namespace. A non-nil
// response ends the request: other operations are admitted, an object of
// an unknown kind or one that does not decode is refused, and so is every
// request while the policies are unknown.
func prepare(req admission.Request, policies Policies) (schema.GroupVersionKind, *workload.Object, *policy.Namespace, *admission.Response) {
	gvk := schema.GroupVersionKind{Group: req.Kind.Group, Version: req.Kind.Version, Kind: req.Kind.Kind}
	end := func(r admission.Response) (schema.GroupVersionKind, *workload.Object, *policy.Namespace, *admission.Response) {
		return gvk, nil, nil, &r
	}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
	default:
		return end(admission.Allowed(fmt.Sprintf("operation %s runs no image", req.Operation)))
	}
	obj, err := workload.Extract(gvk, req.Object.Raw)
	if err != nil {
		var unsupported *workload.UnsupportedKindError
		if errors.As(err, &unsupported) {
			return end(admission.Denied(err.Error()))
		}
		return end(admission.Errored(http.StatusBadRequest, err))
	}
	ns, err := policies.Namespace(req.Namespace)
	if err != nil {
		return end(admission.Denied(fmt.Sprintf("cannot tell which policies apply in namespace %s: %v", req.Namespace, err)))
	}
	return gvk, obj, ns, nil
}

// event records an event about the object of req, unless the request is a
// dry run or no recorder is set.
func (h *Handler) event(req admission.Request, obj *workload.Object, eventtype, reason, action, note string) {
	if h.events == nil || (req.DryRun != nil && *req.DryRun) {
		return
	}
	ref := &corev1.ObjectReference{
		APIVersion: schema.GroupVersion{Group: req.Kind.Group, Version: req.Kind.Version}.String(),
		Kind:       req.Kind.Kind,
		Namespace:  req.Namespace,
		Name:       objectName(req, obj),
		UID:        obj.Meta.UID,
	}
	// An event note is limited to 1 kB.
	note = truncate(note, maxEventNote)
	h.events.Eventf(ref, nil, eventtype, reason, action, "%s", note)
}

// objectName names the object, even on CREATE with generateName.
func objectName(req admission.Request, obj *workload.Object) string {
	switch {
	case req.Name != "":
		return req.Name
	case obj.Meta.Name != "":
		return obj.Meta.Name
	case obj.Meta.GenerateName != "":
		return obj.Meta.GenerateName + "*"
	}
	return "(unnamed)"
}

// storedImages returns the references of the object as stored, before an
// UPDATE (nil on CREATE, or when the old object cannot be read, so that
// everything is checked). The old object comes from the API server's
// storage, not from the client.
func storedImages(req admission.Request, gvk schema.GroupVersionKind) map[string]bool {
	if req.Operation != admissionv1.Update || len(req.OldObject.Raw) == 0 {
		return nil
	}
	old, err := workload.Extract(gvk, req.OldObject.Raw)
	if err != nil {
		return nil
	}
	refs := make(map[string]bool, len(old.Images))
	for _, img := range old.Images {
		refs[img.Ref] = true
	}
	return refs
}

// subset reports whether every image reference is among stored.
func subset(images []workload.Image, stored map[string]bool) bool {
	for _, img := range images {
		if !stored[img.Ref] {
			return false
		}
	}
	return true
}

// failure is one image that did not pass, with every reason.
type failure struct {
	image   workload.Image
	reasons []string
}

// check verifies every image and returns those that fail, in object order.
// The same reference in several containers is fetched and judged once.
func (h *Handler) check(ctx context.Context, ns *policy.Namespace, reg Registry, images []workload.Image) []failure {
	type result struct {
		reasons []string
		outcome string
	}
	unique := map[string]int{}
	var refs []string
	for _, img := range images {
		if _, seen := unique[img.Ref]; !seen {
			unique[img.Ref] = len(refs)
			refs = append(refs, img.Ref)
		}
	}
	results := make([]result, len(refs))
	forEach(ctx, len(refs), h.parallel, func(ctx context.Context, i int) {
		defer func() {
			// A panic on one image must not take the process down with
			// it (controller-runtime only guards the request goroutine).
			if p := recover(); p != nil {
				results[i].reasons = []string{fmt.Sprintf("internal error: %v", p)}
				results[i].outcome = outcomeInternalError
			}
		}()
		results[i].reasons, results[i].outcome = h.checkOne(ctx, ns, reg, refs[i])
	})
	for _, r := range results {
		h.metrics.image(r.outcome)
	}
	var out []failure
	for _, img := range images {
		if r := results[unique[img.Ref]]; len(r.reasons) > 0 {
			out = append(out, failure{image: img, reasons: r.reasons})
		}
	}
	return out
}

// checkOne returns why ref fails, or nothing when it passes.
func (h *Handler) checkOne(ctx context.Context, ns *policy.Namespace, reg Registry, written string) (reasons []string, outcome string) {
	if _, ok := ns.Allowlisted(written); ok {
		return nil, outcomeAllowlisted
	}
	ref, err := reference.Parse(written)
	if err != nil {
		return []string{err.Error()}, outcomeInvalid
	}
	digest, resolved := ref.Digest, ""
	if digest == nil {
		if _, immutable := ns.Immutable.Match(ns.Name, written); !immutable {
			return []string{tagReason(ref, ns.Pin)}, outcomeTag
		}
		// The repository's tags never move: what the tag names now is
		// what the node will pull.
		d, err := reg.Resolve(ctx, *ref.Tag)
		if err != nil {
			return []string{h.registryError(ctx, fmt.Errorf("resolving tag %s: %w", ref.Tag.TagStr(), err))}, outcomeRegistryError
		}
		digest, resolved = &d, fmt.Sprintf(" (tag %s resolved to %s)", ref.Tag.TagStr(), d.DigestStr())
	}
	sigs, err := reg.Signatures(ctx, *digest)
	if err != nil {
		return []string{h.registryError(ctx, err)}, outcomeRegistryError
	}
	v := ns.Evaluate(*digest, sigs)
	if v.OK {
		return nil, outcomeAttested
	}
	for i, r := range v.Reasons {
		unsigned := strings.HasSuffix(r, ": "+noSignature)
		r += resolved
		if unsigned {
			// Say what would make the image pass: the digest, under the
			// repository the signature is looked up in.
			r += fmt.Sprintf("; sign %s@%s with the authority's key (kritis sign or cosign sign)", digest.Context().Name(), digest.DigestStr())
		}
		v.Reasons[i] = r
	}
	return v.Reasons, outcomeNotAttested
}

// noSignature is the Detail attest.Verify gives an image without any
// signature.
const noSignature = "no signature found"

func tagReason(ref reference.Ref, pin bool) string {
	r := fmt.Sprintf("referenced by tag %q; only a reference by digest (%s@sha256:...) can be verified", ref.Tag.TagStr(), ref.Tag.Context().String())
	if pin {
		r += "; tags are pinned in this namespace, so the mutating webhook kritis-pin-hook.grafeas.io did not see this request: check that it is installed"
	} else {
		// Not "pinned": that word says, in a denial, that this
		// namespace pins tags (and the e2e suite holds it to that).
		r += "; pin it with `kritis resolve`, or set tagPolicy: Pin on the policy to have tags resolved to digests at admission"
	}
	return r
}

// registryError renders a registry failure for a denial, saying so when
// the hook's own deadline cut it short.
func (h *settings) registryError(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return fmt.Sprintf("registry error: no answer within the hook's deadline of %s: %s", h.timeout, errorText(err))
	}
	return fmt.Sprintf("registry error: %s", errorText(err))
}

// Bounds of what the hook writes. The API server stores a denial in the
// client's error and in the audit log: an object whose images are a
// megabyte each must not make a message of megabytes.
const (
	maxDenial     = 16 << 10
	maxDenialLine = 2 << 10
	maxEventNote  = 1000
)

// denial renders the message of a denied request. The first line is the
// original kritis's, naming the first failing image as written; the lines
// after it give, per failing container, the field path and each reason.
// References are rendered by reference.Display, so a long or unprintable
// one is shortened and quoted, and the message stops at maxDenial with
// the count of the failing images it leaves out.
func denial(fs []failure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "image %s is not attested", reference.Display(fs[0].image.Ref))
	// Room for the last line, "… and N more failing images".
	const trailer = 64
	for i, f := range fs {
		ref := reference.Display(f.image.Ref)
		for _, r := range f.reasons {
			line := truncate(fmt.Sprintf("\n  %s: %s: %s", f.image.Path, ref, r), maxDenialLine)
			if b.Len()+len(line) > maxDenial-trailer {
				// The images not listed in full, this one included.
				n := len(fs) - i
				plural := "s"
				if n == 1 {
					plural = ""
				}
				fmt.Fprintf(&b, "\n  … and %d more failing image%s", n, plural)
				return b.String()
			}
			b.WriteString(line)
		}
	}
	return b.String()
}

// truncate cuts s to at most max bytes, on a character boundary, ending
// it with "…" when it cuts.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const ellipsis = "…"
	cut := max - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}
