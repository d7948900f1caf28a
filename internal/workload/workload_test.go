package workload

import (
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestExtract(t *testing.T) {
	t.Parallel()
	spec := corev1.PodSpec{
		ServiceAccountName:  "builder",
		ImagePullSecrets:    []corev1.LocalObjectReference{{Name: "regcred"}},
		InitContainers:      []corev1.Container{{Name: "i", Image: "init:1"}},
		Containers:          []corev1.Container{{Name: "c", Image: "app:1"}},
		EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "e", Image: "debug:1"}}},
		Volumes:             []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{Image: &corev1.ImageVolumeSource{Reference: "data:1"}}}},
	}
	tmpl := corev1.PodTemplateSpec{Spec: spec}
	tests := []struct {
		kind   string
		obj    any
		prefix string
	}{
		{"Pod", &corev1.Pod{Spec: spec}, "spec"},
		{"Deployment", &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Template: tmpl}}, "spec.template.spec"},
		{"ReplicationController", &corev1.ReplicationController{Spec: corev1.ReplicationControllerSpec{Template: &tmpl}}, "spec.template.spec"},
		{"ReplicaSet", &appsv1.ReplicaSet{Spec: appsv1.ReplicaSetSpec{Template: tmpl}}, "spec.template.spec"},
		{"StatefulSet", &appsv1.StatefulSet{Spec: appsv1.StatefulSetSpec{Template: tmpl}}, "spec.template.spec"},
		{"DaemonSet", &appsv1.DaemonSet{Spec: appsv1.DaemonSetSpec{Template: tmpl}}, "spec.template.spec"},
		{"Job", &batchv1.Job{Spec: batchv1.JobSpec{Template: tmpl}}, "spec.template.spec"},
		{"CronJob", &batchv1.CronJob{Spec: batchv1.CronJobSpec{JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: tmpl}}}}, "spec.jobTemplate.spec.template.spec"},
	}
	if len(tests) != len(kinds) {
		t.Fatalf("%d kinds are read, %d tested", len(kinds), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			t.Parallel()
			raw, _ := json.Marshal(tt.obj)
			var gvk schema.GroupVersionKind
			for k := range kinds {
				if k.Kind == tt.kind {
					gvk = k
				}
			}
			obj, err := Extract(gvk, raw)
			if err != nil {
				t.Fatal(err)
			}
			want := []Image{
				{Path: tt.prefix + ".initContainers[0].image", Ref: "init:1"},
				{Path: tt.prefix + ".containers[0].image", Ref: "app:1"},
				{Path: tt.prefix + ".ephemeralContainers[0].image", Ref: "debug:1"},
				{Path: tt.prefix + ".volumes[0].image.reference", Ref: "data:1"},
			}
			if len(obj.Images) != len(want) {
				t.Fatalf("images = %+v", obj.Images)
			}
			for i, w := range want {
				got := obj.Images[i]
				if got.Path != w.Path || got.Ref != w.Ref {
					t.Errorf("image %d = %+v, want %+v", i, got, w)
				}
				// The pointer addresses the same field in the JSON.
				var doc any
				_ = json.Unmarshal(raw, &doc)
				if v := lookup(doc, got.Pointer); v != w.Ref {
					t.Errorf("pointer %s resolves to %v, want %q", got.Pointer, v, w.Ref)
				}
			}
			if obj.ServiceAccount != "builder" || len(obj.PullSecrets) != 1 || obj.PullSecrets[0] != "regcred" {
				t.Errorf("credentials = %q %q", obj.ServiceAccount, obj.PullSecrets)
			}
		})
	}
}

// lookup follows a JSON pointer through decoded JSON.
func lookup(doc any, ptr string) any {
	cur := doc
	for _, tok := range splitPointer(ptr) {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[tok]
		case []any:
			i := 0
			for _, r := range tok {
				i = i*10 + int(r-'0')
			}
			if i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

func splitPointer(p string) []string {
	var out []string
	start := 1
	for i := 1; i <= len(p); i++ {
		if i == len(p) || p[i] == '/' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return out
}

func TestExtractRejects(t *testing.T) {
	t.Parallel()
	// A differently cased key is not the image field.
	obj, err := Extract(corev1.SchemeGroupVersion.WithKind("Pod"), []byte(`{"spec":{"containers":[{"name":"a","Image":"evil:1","image":"good@sha256:`+strings.Repeat("0", 64)+`"}]}}`))
	if err != nil || len(obj.Images) != 1 || obj.Images[0].Ref != "good@sha256:"+strings.Repeat("0", 64) {
		t.Errorf("case-variant key: images = %+v, err %v", obj, err)
	}
	if _, err := Extract(corev1.SchemeGroupVersion.WithKind("Pod"), nil); err == nil {
		t.Error("empty object: want error")
	}
	if _, err := Extract(corev1.SchemeGroupVersion.WithKind("Pod"), []byte(`{"spec":`)); err == nil {
		t.Error("truncated object: want error")
	}
	_, err = Extract(corev1.SchemeGroupVersion.WithKind("ConfigMap"), []byte(`{}`))
	if _, ok := err.(*UnsupportedKindError); !ok {
		t.Errorf("ConfigMap: err = %v, want UnsupportedKindError", err)
	}
}
