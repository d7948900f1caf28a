package admission

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kritis-project/kritis/internal/reference"
	"github.com/kritis-project/kritis/internal/workload"
)

// Pinner is the mutating webhook: in namespaces whose policies pin tags, it
// resolves each image referenced by tag at its registry and rewrites the
// reference to name:tag@sha256:<digest>. The validating webhook, which the
// API server calls after every mutating one, then verifies that digest,
// and the node pulls exactly it: the tag cannot move in between.
type Pinner struct {
	policies   Policies
	registries Registries
	timeout    time.Duration
	parallel   int
	metrics    *Metrics
	log        logr.Logger
}

// NewPinner returns a Pinner. Options are those of NewHandler; the ones
// about decisions (dry run, events) do not apply.
func NewPinner(p Policies, r Registries, opts ...Option) *Pinner {
	h := NewHandler(p, r, opts...)
	return &Pinner{policies: p, registries: r, timeout: h.timeout, parallel: h.parallel, metrics: h.metrics, log: h.log}
}

var _ admission.Handler = (*Pinner)(nil)

// Handle implements admission.Handler.
func (p *Pinner) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	resp := p.pin(ctx, req)
	log := p.log.WithValues("uid", req.UID, "namespace", req.Namespace, "kind", req.Kind.Kind, "name", req.Name)
	switch {
	case !resp.Allowed:
		p.metrics.decision("pin", "denied", start)
		log.Info("pinning failed", "reason", resp.Result.Message)
	case len(resp.Patches) > 0:
		p.metrics.decision("pin", "patched", start)
		log.V(1).Info("pinned", "patches", len(resp.Patches))
	default:
		p.metrics.decision("pin", "admitted", start)
	}
	return resp
}

func (p *Pinner) pin(ctx context.Context, req admission.Request) admission.Response {
	gvk, obj, ns, early := prepare(req, p.policies)
	if early != nil {
		return *early
	}
	if !ns.Pin || len(ns.Policies) == 0 {
		return admission.Allowed("tags are not pinned in this namespace")
	}

	// Images the stored object already had are left as they are: an
	// UPDATE that scales a Deployment must not re-resolve (and so roll)
	// its template.
	before := map[string]bool{}
	if req.Operation == admissionv1.Update {
		if old, err := workload.Extract(gvk, req.OldObject.Raw); err == nil {
			for _, img := range old.Images {
				before[img.Ref] = true
			}
		}
	}
	type job struct {
		img    workload.Image
		ref    reference.Ref
		pinned string
		err    error
	}
	var jobs []*job
	for _, img := range obj.Images {
		if before[img.Ref] {
			continue
		}
		if _, ok := ns.Allowlisted(img.Ref); ok {
			continue
		}
		ref, err := reference.Parse(img.Ref)
		if err != nil || ref.Digest != nil {
			continue // invalid references are the validating webhook's to deny
		}
		jobs = append(jobs, &job{img: img, ref: ref})
	}
	if len(jobs) == 0 {
		return admission.Allowed("no tag to pin")
	}

	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	reg := p.registries.For(req.Namespace, obj)
	forEach(ctx, len(jobs), p.parallel, func(ctx context.Context, i int) {
		j := jobs[i]
		defer func() {
			if r := recover(); r != nil {
				j.err = fmt.Errorf("internal error: %v", r)
			}
		}()
		d, err := reg.Resolve(ctx, *j.ref.Tag)
		if err != nil {
			j.err = err
			return
		}
		j.pinned = j.img.Ref + "@" + d.DigestStr()
	})

	var (
		patches []jsonpatch.JsonPatchOperation
		failed  []failure
	)
	for _, j := range jobs {
		if j.err != nil {
			reason := fmt.Sprintf("registry error: cannot resolve tag %s: %s", j.ref.Tag.TagStr(), errorText(j.err))
			if ctx.Err() != nil {
				reason = fmt.Sprintf("registry error: no answer within the hook's deadline of %s resolving tag %s: %s", p.timeout, j.ref.Tag.TagStr(), errorText(j.err))
			}
			failed = append(failed, failure{image: j.img, reasons: []string{reason}})
			continue
		}
		patches = append(patches, jsonpatch.JsonPatchOperation{Operation: "replace", Path: j.img.Pointer, Value: j.pinned})
	}
	if len(failed) > 0 {
		return admission.Denied(denial(failed))
	}
	return admission.Patched(fmt.Sprintf("pinned %d image(s) to digests", len(patches)), patches...)
}
