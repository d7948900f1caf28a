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

// podSpecOf reads an object of one kind: its metadata, its pod spec (nil
// when it has none) and that spec's field path.
type podSpecOf func(raw []byte) (*metav1.ObjectMeta, *corev1.PodSpec, *field.Path, error)

// kind makes the podSpecOf of the kind T, whose pod spec get returns.
func kind[T any](path *field.Path, get func(*T) (*metav1.ObjectMeta, *corev1.PodSpec)) podSpecOf {
	return func(raw []byte) (*metav1.ObjectMeta, *corev1.PodSpec, *field.Path, error) {
		o := new(T)
		if err := decode(raw, o); err != nil {
			return nil, nil, nil, err
		}
		meta, spec := get(o)
		return meta, spec, path, nil
	}
}

var templatePath = field.NewPath("spec", "template", "spec")

// kinds are the kinds Extract reads: every way an object of the core API
// runs an image.
var kinds = map[schema.GroupVersionKind]podSpecOf{
	corev1.SchemeGroupVersion.WithKind("Pod"): kind(field.NewPath("spec"), func(o *corev1.Pod) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec
	}),
	corev1.SchemeGroupVersion.WithKind("ReplicationController"): kind(templatePath, func(o *corev1.ReplicationController) (*metav1.ObjectMeta, *corev1.PodSpec) {
		if o.Spec.Template == nil {
			return &o.ObjectMeta, nil
		}
		return &o.ObjectMeta, &o.Spec.Template.Spec
	}),
	appsv1.SchemeGroupVersion.WithKind("Deployment"): kind(templatePath, func(o *appsv1.Deployment) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec.Template.Spec
	}),
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"): kind(templatePath, func(o *appsv1.ReplicaSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec.Template.Spec
	}),
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"): kind(templatePath, func(o *appsv1.StatefulSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec.Template.Spec
	}),
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"): kind(templatePath, func(o *appsv1.DaemonSet) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec.Template.Spec
	}),
	batchv1.SchemeGroupVersion.WithKind("Job"): kind(templatePath, func(o *batchv1.Job) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec.Template.Spec
	}),
	batchv1.SchemeGroupVersion.WithKind("CronJob"): kind(field.NewPath("spec", "jobTemplate", "spec", "template", "spec"), func(o *batchv1.CronJob) (*metav1.ObjectMeta, *corev1.PodSpec) {
		return &o.ObjectMeta, &o.Spec.JobTemplate.Spec.Template.Spec
	}),
}

// Extract decodes raw as an object of kind gvk and lists its images in the
// order they appear. An object of another kind, or one that does not decode,
// is an error.
func Extract(gvk schema.GroupVersionKind, raw []byte) (*Object, error) {
	read, ok := kinds[gvk]
	if !ok {
		return nil, &UnsupportedKindError{Kind: gvk}
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("decoding %s: the request carries no object", gvk.Kind)
	}
	meta, spec, path, err := read(raw)
	if err != nil {
		return nil, err
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
