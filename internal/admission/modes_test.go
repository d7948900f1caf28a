package admission

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

type recordedEvent struct{ kind, name, eventtype, reason, note string }

type fakeRecorder struct {
	mu     sync.Mutex
	events []recordedEvent
}

func (f *fakeRecorder) Eventf(regarding, _ runtime.Object, eventtype, reason, _, note string, args ...any) {
	ref := regarding.(*corev1.ObjectReference)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, recordedEvent{ref.Kind, ref.Name, eventtype, reason, fmt.Sprintf(note, args...)})
}

func withOld(t *testing.T, req ctrladmission.Request, old corev1.PodSpec) ctrladmission.Request {
	t.Helper()
	raw, err := json.Marshal(&corev1.Pod{Spec: old})
	if err != nil {
		t.Fatal(err)
	}
	req.Operation = admissionv1.Update
	req.OldObject = runtime.RawExtension{Raw: raw}
	return req
}

func TestModes(t *testing.T) {
	t.Parallel()
	unsigned := "r.example/app@" + digestB
	signed := "r.example/app@" + digestA
	breakglass := func(req ctrladmission.Request) ctrladmission.Request {
		var pod corev1.Pod
		_ = json.Unmarshal(req.Object.Raw, &pod)
		pod.Annotations = map[string]string{BreakglassAnnotation: "incident-42"}
		req.Object.Raw, _ = json.Marshal(&pod)
		req.UserInfo = authenticationv1.UserInfo{Username: "alice"}
		return req
	}
	yes := true
	tests := []struct {
		name      string
		req       ctrladmission.Request
		dryRun    bool
		allowed   bool
		warning   string
		wantEvent string // reason, "" for none
		eventHas  string
	}{
		{
			name:    "update leaving images as they were",
			req:     withOld(t, podRequest(t, "team", corev1.PodSpec{Containers: containers(unsigned)}), corev1.PodSpec{Containers: containers(unsigned)}),
			allowed: true,
		},
		{
			name:      "update changing an image to an unsigned one",
			req:       withOld(t, podRequest(t, "team", corev1.PodSpec{Containers: containers(unsigned)}), corev1.PodSpec{Containers: containers(signed)}),
			wantEvent: ReasonFailed, eventHas: "image " + unsigned + " is not attested",
		},
		{
			name:      "update adding an ephemeral container",
			req:       withOld(t, podRequest(t, "team", corev1.PodSpec{Containers: containers(signed), EphemeralContainers: []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}}), corev1.PodSpec{Containers: containers(signed)}),
			wantEvent: ReasonFailed, eventHas: "spec.ephemeralContainers[0].image",
		},
		{
			name:      "breakglass admits with a warning and an event naming the user",
			req:       breakglass(podRequest(t, "team", corev1.PodSpec{Containers: containers(unsigned)})),
			allowed:   true,
			warning:   "breakglass",
			wantEvent: ReasonBreakglass, eventHas: "by alice",
		},
		{
			name:      "dry-run mode admits with a warning and an event",
			req:       podRequest(t, "team", corev1.PodSpec{Containers: containers(unsigned)}),
			dryRun:    true,
			allowed:   true,
			warning:   "would deny: image " + unsigned + " is not attested",
			wantEvent: ReasonDryRun, eventHas: "no signature found",
		},
		{
			name: "a dry-run request records no event",
			req: func() ctrladmission.Request {
				r := podRequest(t, "team", corev1.PodSpec{Containers: containers(unsigned)})
				r.DryRun = &yes
				return r
			}(),
		},
		{
			name: "an annotation claiming verification is ignored",
			req: func() ctrladmission.Request {
				r := podRequest(t, "team", corev1.PodSpec{Containers: containers(unsigned)})
				var pod corev1.Pod
				_ = json.Unmarshal(r.Object.Raw, &pod)
				pod.Annotations = map[string]string{"kritis.grafeas.io/verified": "true"}
				r.Object.Raw, _ = json.Marshal(&pod)
				return r
			}(),
			wantEvent: ReasonFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, src := fixture(t)
			rec := &fakeRecorder{}
			resp := NewHandler(store, SourceOnly{src}, WithDryRun(tt.dryRun), WithEventRecorder(rec)).Handle(context.Background(), tt.req)
			if resp.Allowed != tt.allowed {
				t.Fatalf("allowed = %v, want %v (%s)", resp.Allowed, tt.allowed, resp.Result.Message)
			}
			if tt.warning != "" && !strings.Contains(strings.Join(resp.Warnings, "\n"), tt.warning) {
				t.Errorf("warnings %q lack %q", resp.Warnings, tt.warning)
			}
			if tt.wantEvent == "" {
				if len(rec.events) != 0 {
					t.Fatalf("want no event, got %+v", rec.events)
				}
				return
			}
			if len(rec.events) != 1 {
				t.Fatalf("want one %s event, got %+v", tt.wantEvent, rec.events)
			}
			ev := rec.events[0]
			if ev.reason != tt.wantEvent || ev.kind != "Pod" || ev.name != "p" || !strings.Contains(ev.note, tt.eventHas) {
				t.Errorf("event = %+v, want reason %s about Pod p with %q", ev, tt.wantEvent, tt.eventHas)
			}
		})
	}
}

func TestBreakglassGroups(t *testing.T) {
	t.Parallel()
	unsigned := "r.example/app@" + digestB
	signed := "r.example/app@" + digestA
	req := func(image string, groups ...string) ctrladmission.Request {
		r := podRequest(t, "team", corev1.PodSpec{Containers: containers(image)})
		var pod corev1.Pod
		_ = json.Unmarshal(r.Object.Raw, &pod)
		pod.Annotations = map[string]string{BreakglassAnnotation: "INC-1"}
		r.Object.Raw, _ = json.Marshal(&pod)
		r.UserInfo = authenticationv1.UserInfo{Username: "dev", Groups: groups}
		return r
	}
	tests := []struct {
		name    string
		req     ctrladmission.Request
		allowed bool
		want    string
	}{
		{"member of the breakglass group", req(unsigned, "system:authenticated", "sre"), true, "breakglass: p admitted"},
		{"the cluster's controllers", req(unsigned, "system:serviceaccounts:kube-system"), true, "breakglass: p admitted"},
		{"anyone else is verified as usual", req(unsigned, "system:authenticated"), false, "breakglass ignored: dev is not in a group allowed to use kritis.grafeas.io/breakglass (sre)"},
		{"anyone else with a signed image", req(signed, "system:authenticated"), true, "every image is attested"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store, src := fixture(t)
			resp := NewHandler(store, SourceOnly{src}, WithBreakglassGroups("sre")).Handle(context.Background(), tt.req)
			if resp.Allowed != tt.allowed || !strings.Contains(resp.Result.Message, tt.want) {
				t.Fatalf("allowed=%v %q, want %v containing %q", resp.Allowed, resp.Result.Message, tt.allowed, tt.want)
			}
		})
	}
}
