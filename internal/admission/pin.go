package admission

import (
	"context"
	"fmt"
	"time"

	"gomodules.xyz/jsonpatch/v2"
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
	settings
}

// NewPinner returns a Pinner. Options are those of NewHandler; the ones
// about decisions (dry run, events, breakglass) do not apply.
func NewPinner(p Policies, r Registries, opts ...Option) *Pinner {
	return &Pinner{newSettings(p, r, opts)}
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
	stored := storedImages(req, gvk)
	type job struct {
		img    workload.Image
		ref    reference.Ref
		pinned string
		err    error
	}
	var jobs []*job
	for _, img := range obj.Images {
		if stored[img.Ref] {
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
			reason := p.registryError(ctx, fmt.Errorf("cannot resolve tag %s: %w", j.ref.Tag.TagStr(), j.err))
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
