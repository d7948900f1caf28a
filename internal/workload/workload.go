// Package workload finds every container image in an admitted object.
//
// Whatever the kind, an image reaches a node through a pod spec: directly in
// a Pod, or through the pod template of a controller. Extract decodes the
// object according to the kind the API server says it is, walks to its pod
// spec and lists each image with the field path a person would edit.
// Nothing in the object's metadata (owners, annotations, labels) changes
// what is listed: client-supplied state is never trusted.
package workload

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
)

// Image is one image reference found in an object.
type Image struct {
	// Path is the field path of the reference, e.g.
	// spec.template.spec.initContainers[0].image.
	Path string
	// Ref is the reference as written in the object.
	Ref string
	// Pointer is the JSON pointer (RFC 6901) of the reference, for patches:
	// /spec/template/spec/initContainers/0/image.
	Pointer string
}

// Object is what Extract found: the object's metadata, its images and
// whose credentials the kubelet would pull them with.
type Object struct {
	Meta   metav1.ObjectMeta
	Images []Image
	// ServiceAccount is the pod spec's serviceAccountName ("" = default).
	ServiceAccount string
	// PullSecrets are the pod spec's imagePullSecrets names.
	PullSecrets []string
}

// UnsupportedKindError says that an object of a kind the hook cannot read
// reached it. The hook denies such objects: it cannot tell what they run.
type UnsupportedKindError struct {
	Kind schema.GroupVersionKind
}

func (e *UnsupportedKindError) Error() string {
	return fmt.Sprintf("kind %s (%s) is not supported by the image policy webhook; remove it from the webhook configuration's rules", e.Kind.Kind, e.Kind.GroupVersion().String())
}

// Kinds lists the kinds Extract reads.
var Kinds = []schema.GroupVersionKind{
	corev1.SchemeGroupVersion.WithKind("Pod"),
	corev1.SchemeGroupVersion.WithKind("ReplicationController"),
	appsv1.SchemeGroupVersion.WithKind("Deployment"),
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"),
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"),
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"),
	batchv1.SchemeGroupVersion.WithKind("Job"),
	batchv1.SchemeGroupVersion.WithKind("CronJob"),
}

// Extract decodes raw as an object of kind gvk and lists its images in the
// order they appear. An object of another kind, or one that does not decode,
// is an error.
func Extract(gvk schema.GroupVersionKind, raw []byte) (*Object, error) {
	if len(raw) == 0 {
		return nil, fmt.Errorf("decoding %s: the request carries no object", gvk.Kind)
	}
	var (
		meta *metav1.ObjectMeta
		spec *corev1.PodSpec
		path *field.Path
	)
	template := field.NewPath("spec", "template", "spec")
	switch gvk {
	case corev1.SchemeGroupVersion.WithKind("Pod"):
		var o corev1.Pod
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, spec, path = &o.ObjectMeta, &o.Spec, field.NewPath("spec")
	case corev1.SchemeGroupVersion.WithKind("ReplicationController"):
		var o corev1.ReplicationController
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, path = &o.ObjectMeta, template
		if o.Spec.Template != nil {
			spec = &o.Spec.Template.Spec
		}
	case appsv1.SchemeGroupVersion.WithKind("Deployment"):
		var o appsv1.Deployment
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, spec, path = &o.ObjectMeta, &o.Spec.Template.Spec, template
	case appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):
		var o appsv1.ReplicaSet
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, spec, path = &o.ObjectMeta, &o.Spec.Template.Spec, template
	case appsv1.SchemeGroupVersion.WithKind("StatefulSet"):
		var o appsv1.StatefulSet
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, spec, path = &o.ObjectMeta, &o.Spec.Template.Spec, template
	case appsv1.SchemeGroupVersion.WithKind("DaemonSet"):
		var o appsv1.DaemonSet
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, spec, path = &o.ObjectMeta, &o.Spec.Template.Spec, template
	case batchv1.SchemeGroupVersion.WithKind("Job"):
		var o batchv1.Job
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta, spec, path = &o.ObjectMeta, &o.Spec.Template.Spec, template
	case batchv1.SchemeGroupVersion.WithKind("CronJob"):
		var o batchv1.CronJob
		if err := decode(raw, &o); err != nil {
			return nil, err
		}
		meta = &o.ObjectMeta
		spec = &o.Spec.JobTemplate.Spec.Template.Spec
		path = field.NewPath("spec", "jobTemplate", "spec", "template", "spec")
	default:
		return nil, &UnsupportedKindError{Kind: gvk}
	}
	obj := &Object{Meta: *meta}
	if spec != nil {
		obj.Images = PodSpecImages(spec, path)
		obj.ServiceAccount = spec.ServiceAccountName
		for _, s := range spec.ImagePullSecrets {
			obj.PullSecrets = append(obj.PullSecrets, s.Name)
		}
	}
	return obj, nil
}

// decode reads raw as the API server does: field names are case
// sensitive, so {"Image": ...} cannot stand in for {"image": ...}. (The API
// server re-encodes objects before sending them to webhooks, so this only
// matters for reviews that did not come from it.)
func decode(raw []byte, into any) error {
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, into); err != nil {
		return fmt.Errorf("decoding object: %w", err)
	}
	return nil
}

// PodSpecImages lists the images of every container of spec: init
// containers, containers, ephemeral containers and image volumes, each with
// its field path under base.
func PodSpecImages(spec *corev1.PodSpec, base *field.Path) []Image {
	var out []Image
	add := func(p *field.Path, ref string) {
		out = append(out, Image{Path: p.String(), Ref: ref, Pointer: pointer(p)})
	}
	for i, c := range spec.InitContainers {
		add(base.Child("initContainers").Index(i).Child("image"), c.Image)
	}
	for i, c := range spec.Containers {
		add(base.Child("containers").Index(i).Child("image"), c.Image)
	}
	for i, c := range spec.EphemeralContainers {
		add(base.Child("ephemeralContainers").Index(i).Child("image"), c.Image)
	}
	for i, v := range spec.Volumes {
		if v.Image != nil {
			add(base.Child("volumes").Index(i).Child("image", "reference"), v.Image.Reference)
		}
	}
	return out
}

// pointer turns spec.containers[0].image into /spec/containers/0/image.
// Field names here never contain '~' or '/', so nothing needs escaping.
func pointer(p *field.Path) string {
	s := p.String()
	s = strings.ReplaceAll(s, "[", ".")
	s = strings.ReplaceAll(s, "]", "")
	return "/" + strings.ReplaceAll(s, ".", "/")
}
