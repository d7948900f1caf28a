package e2e

import (
	"bytes"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kritis-project/kritis/internal/hook"
)

// wlEnv is what one row of TestWorkloads works with: its own namespace,
// holding authority aa1 (the suite's key) and, unless the row says
// otherwise, policy gap1 trusting it; S is signed by that key, U is not.
type wlEnv struct {
	ns   string
	s, u name.Digest
	key  crypto.Signer
}

// enforce adds policy gap1 and waits until the hook enforces it.
func (e *wlEnv) enforce(t *testing.T) {
	t.Helper()
	policy(t, e.ns, "gap1", "aa1")
}

// wlRow is one row of cases/workloads.md. Either run performs the request
// under test (earlier steps fail the test themselves) and the outcome is
// checked against admit/webhook/paths, or verify does everything itself.
type wlRow struct {
	name     string
	noPolicy bool // the namespace gets no policy before run/verify
	run      func(t *testing.T, e *wlEnv) error
	admit    bool
	webhook  string   // the webhook named in the denial
	paths    []string // field paths the denial must name, each for U
	notPaths []string // field paths the denial must not name
	verify   func(t *testing.T, e *wlEnv)
}

// TestWorkloads runs every row of cases/workloads.md, every way an image
// reaches a node, through the real API server and the webhook.
func TestWorkloads(t *testing.T) {
	t.Parallel()
	key := mustKey(t, "ecdsa-p256")
	ctx := context.Background()

	rows := []wlRow{
		{
			name: "Pod containers S initContainers U",
			run: func(t *testing.T, e *wlEnv) error {
				pod := wlPod(e.ns, e.s.String())
				pod.Spec.InitContainers = []corev1.Container{{Name: "init", Image: e.u.String()}}
				return crc.Create(ctx, pod)
			},
			webhook:  hook.PodsWebhook,
			paths:    []string{"spec.initContainers[0].image"},
			notPaths: []string{"spec.containers[0].image"},
		},
		{
			name: "ephemeral container U added to an admitted Pod S",
			run: func(t *testing.T, e *wlEnv) error {
				return wlAddEphemeral(t, e, e.u.String())
			},
			webhook:  hook.PodsWebhook,
			paths:    []string{"spec.ephemeralContainers[0].image"},
			notPaths: []string{"spec.containers[0].image"},
		},
		{
			name: "ephemeral container S added to an admitted Pod S",
			run: func(t *testing.T, e *wlEnv) error {
				return wlAddEphemeral(t, e, e.s.String())
			},
			admit: true,
		},
		{
			name: "Pod with only S",
			run: func(t *testing.T, e *wlEnv) error {
				return crc.Create(ctx, wlPod(e.ns, e.s.String()))
			},
			admit: true,
		},
		{
			name: "Pod U with ownerReferences claiming a ReplicaSet",
			run: func(t *testing.T, e *wlEnv) error {
				pod := wlPod(e.ns, e.u.String())
				yes := true
				pod.OwnerReferences = []metav1.OwnerReference{{
					APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "trusted-rs",
					UID: uuid.NewUUID(), Controller: &yes,
				}}
				return crc.Create(ctx, pod)
			},
			webhook: hook.PodsWebhook,
			paths:   []string{"spec.containers[0].image"},
		},
		{
			name: "Pod U with annotations claiming it was verified",
			run: func(t *testing.T, e *wlEnv) error {
				// Claims of verification, not the documented breakglass
				// annotation (cases/policies.md), which admits on purpose.
				pod := wlPod(e.ns, e.u.String())
				pod.Annotations = map[string]string{
					"kritis.grafeas.io/verified":         "true",
					"policy.sigstore.dev/verified":       "true",
					"kritis.grafeas.io/attested-digests": e.u.DigestStr(),
				}
				return crc.Create(ctx, pod)
			},
			webhook: hook.PodsWebhook,
			paths:   []string{"spec.containers[0].image"},
		},
		{
			name: "Deployment S, then set image to U",
			run: func(t *testing.T, e *wlEnv) error {
				d := wlWorkload("Deployment", e.ns, e.s.String())
				if err := crc.Create(ctx, d); err != nil {
					t.Fatalf("creating the Deployment with S: %v", err)
				}
				// What `kubectl set image deployment/w app=U` sends.
				patch := fmt.Sprintf(`{"spec":{"template":{"spec":{"containers":[{"name":"app","image":%q}]}}}}`, e.u.String())
				_, err := kube.AppsV1().Deployments(e.ns).Patch(ctx, d.GetName(), types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{})
				return err
			},
			webhook: hook.WorkloadsWebhook,
			paths:   []string{"spec.template.spec.containers[0].image"},
		},
		{
			name: "Deployment S, then scaled and relabelled",
			run: func(t *testing.T, e *wlEnv) error {
				d := wlWorkload("Deployment", e.ns, e.s.String())
				if err := crc.Create(ctx, d); err != nil {
					t.Fatalf("creating the Deployment with S: %v", err)
				}
				return wlScaleAndRelabel(ctx, e.ns, d.GetName())
			},
			admit: true,
		},
		{
			name:     "Deployment U admitted before any policy, then scaled and relabelled under one",
			noPolicy: true,
			verify: func(t *testing.T, e *wlEnv) {
				d := wlWorkload("Deployment", e.ns, e.u.String())
				if err := crc.Create(ctx, d); err != nil {
					t.Fatalf("without a policy, want the Deployment with U admitted, got: %v", err)
				}
				e.enforce(t)
				// The policy is enforced on Deployments too: a new one
				// with U is denied...
				probe := wlWorkload("Deployment", e.ns, e.u.String())
				probe.SetName("probe")
				err := crc.Create(ctx, probe, client.DryRunAll)
				if err == nil || !strings.Contains(err.Error(), "is not attested") {
					t.Fatalf("under the policy, want a new Deployment with U denied, got: %v", err)
				}
				// ...but an UPDATE leaving every image as it was is not.
				if err := wlScale(ctx, e.ns, d.GetName()); err != nil {
					t.Errorf("want the scale (UPDATE, images unchanged) admitted, got: %v", err)
				}
				if err := wlRelabel(ctx, e.ns, d.GetName()); err != nil {
					t.Errorf("want the relabel (UPDATE, images unchanged) admitted, got: %v", err)
				}
			},
		},
		{
			name: "namespace labelled kritis-validation=disabled",
			verify: func(t *testing.T, e *wlEnv) {
				if err := createPod(t, e.ns, "app", e.u.String(), true); err == nil || !strings.Contains(err.Error(), "is not attested") {
					t.Fatalf("before the label, want a Pod with U denied, got: %v", err)
				}
				patch := fmt.Sprintf(`{"metadata":{"labels":{%q:"disabled"}}}`, hook.DisableLabel)
				if _, err := kube.CoreV1().Namespaces().Patch(ctx, e.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
					t.Fatalf("labelling the namespace: %v", err)
				}
				// The API server's namespace informer sees the label
				// within moments; until then the hook may still be asked.
				deadline := time.Now().Add(20 * time.Second)
				for {
					err := createPod(t, e.ns, "app", e.u.String(), true)
					if err == nil {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("20s after labelling the namespace disabled, a Pod with U is still denied: %v", err)
					}
					time.Sleep(100 * time.Millisecond)
				}
				if err := createPod(t, e.ns, "app", e.u.String(), false); err != nil {
					t.Fatalf("want the Pod with U admitted in a disabled namespace, got: %v", err)
				}
			},
		},
		{
			name:   "a kind the hook does not know, registered to it by mistake",
			verify: wlUnknownKind,
		},
		{
			name:   "request body not an AdmissionReview, or truncated",
			verify: wlMalformed,
		},
	}
	// Every controller kind, with U (denied, naming where U is) and with S
	// (admitted, so that a hook denying everything fails too).
	for _, kind := range []string{"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ReplicationController", "Job", "CronJob"} {
		path := "spec.template.spec.containers[0].image"
		if kind == "CronJob" {
			path = "spec.jobTemplate.spec.template.spec.containers[0].image"
		}
		rows = append(rows,
			wlRow{
				name: kind + " with U",
				run: func(t *testing.T, e *wlEnv) error {
					return crc.Create(ctx, wlWorkload(kind, e.ns, e.u.String()))
				},
				webhook: hook.WorkloadsWebhook,
				paths:   []string{path},
			},
			wlRow{
				name: kind + " with S",
				run: func(t *testing.T, e *wlEnv) error {
					return crc.Create(ctx, wlWorkload(kind, e.ns, e.s.String()))
				},
				admit: true,
			},
		)
	}

	for i, tt := range rows {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := &wlEnv{ns: namespace(t), key: key}
			repo := fmt.Sprintf("workloads/row%d", i)
			e.s = pushRandom(t, repo, "signed")
			e.u = pushRandom(t, repo, "unsigned")
			sign(t, e.s, key, e.s.Context(), e.s.DigestStr(), "", nil)
			authority(t, e.ns, "aa1", key.Public(), "")
			if !tt.noPolicy {
				e.enforce(t)
			}
			if tt.verify != nil {
				tt.verify(t, e)
				return
			}
			err := tt.run(t, e)
			if tt.admit {
				if err != nil {
					t.Fatalf("want admitted, got: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("want denied by %s naming %v, but the request was admitted", tt.webhook, tt.paths)
			}
			msg := err.Error()
			first := fmt.Sprintf("admission webhook %q denied the request: image %s is not attested", tt.webhook, e.u.String())
			if !strings.Contains(msg, first) {
				t.Errorf("denial lacks %q:\n%s", first, msg)
			}
			for _, p := range tt.paths {
				if want := p + ": " + e.u.String() + ": "; !strings.Contains(msg, want) {
					t.Errorf("denial lacks %q:\n%s", want, msg)
				}
			}
			for _, p := range tt.notPaths {
				if strings.Contains(msg, p) {
					t.Errorf("denial names %s, which holds the signed image:\n%s", p, msg)
				}
			}
			if strings.Contains(msg, e.s.DigestStr()) {
				t.Errorf("denial names the signed image %s:\n%s", e.s, msg)
			}
		})
	}
}

var wlLabels = map[string]string{"app": "w"}

func wlPod(ns, image string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "app-", Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
}

// wlWorkload returns a minimal valid object of kind running image.
func wlWorkload(kind, ns, image string) client.Object {
	meta := metav1.ObjectMeta{Name: "w", Namespace: ns}
	tmpl := corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: wlLabels},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: image}}},
	}
	sel := &metav1.LabelSelector{MatchLabels: wlLabels}
	batch := *tmpl.DeepCopy()
	batch.Spec.RestartPolicy = corev1.RestartPolicyNever
	batch.Labels = nil // the API server labels a Job's pods itself
	switch kind {
	case "Deployment":
		return &appsv1.Deployment{ObjectMeta: meta, Spec: appsv1.DeploymentSpec{Selector: sel, Template: tmpl}}
	case "ReplicaSet":
		return &appsv1.ReplicaSet{ObjectMeta: meta, Spec: appsv1.ReplicaSetSpec{Selector: sel, Template: tmpl}}
	case "StatefulSet":
		return &appsv1.StatefulSet{ObjectMeta: meta, Spec: appsv1.StatefulSetSpec{Selector: sel, Template: tmpl, ServiceName: "w"}}
	case "DaemonSet":
		return &appsv1.DaemonSet{ObjectMeta: meta, Spec: appsv1.DaemonSetSpec{Selector: sel, Template: tmpl}}
	case "ReplicationController":
		return &corev1.ReplicationController{ObjectMeta: meta, Spec: corev1.ReplicationControllerSpec{Selector: wlLabels, Template: &tmpl}}
	case "Job":
		return &batchv1.Job{ObjectMeta: meta, Spec: batchv1.JobSpec{Template: batch}}
	case "CronJob":
		return &batchv1.CronJob{ObjectMeta: meta, Spec: batchv1.CronJobSpec{
			Schedule:    "*/5 * * * *",
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: batch}},
		}}
	}
	panic("wlWorkload: unknown kind " + kind)
}

// wlAddEphemeral creates a Pod running S, then adds an ephemeral container
// running image through the pods/ephemeralcontainers subresource, as
// `kubectl debug` does, and returns the API server's answer to that.
func wlAddEphemeral(t *testing.T, e *wlEnv, image string) error {
	t.Helper()
	ctx := context.Background()
	pod, err := kube.CoreV1().Pods(e.ns).Create(ctx, wlPod(e.ns, e.s.String()), metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the Pod with S: %v", err)
	}
	pod.Spec.EphemeralContainers = append(pod.Spec.EphemeralContainers, corev1.EphemeralContainer{
		EphemeralContainerCommon: corev1.EphemeralContainerCommon{
			Name: "debugger", Image: image,
			ImagePullPolicy:          corev1.PullIfNotPresent,
			TerminationMessagePolicy: corev1.TerminationMessageReadFile,
			Stdin:                    true, TTY: true,
		},
		TargetContainerName: "app",
	})
	_, err = kube.CoreV1().Pods(e.ns).UpdateEphemeralContainers(ctx, pod.Name, pod, metav1.UpdateOptions{})
	return err
}

// wlScale sets a Deployment's replicas with a full UPDATE of the object
// (as `kubectl edit` or `kubectl apply` does; the scale subresource is not
// sent to the hook at all).
func wlScale(ctx context.Context, ns, nm string) error {
	d, err := kube.AppsV1().Deployments(ns).Get(ctx, nm, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("getting the Deployment: %w", err)
	}
	n := int32(3)
	d.Spec.Replicas = &n
	if _, err := kube.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("scaling: %w", err)
	}
	return nil
}

// wlRelabel adds a label, as `kubectl label` does (an UPDATE by patch).
func wlRelabel(ctx context.Context, ns, nm string) error {
	patch := []byte(`{"metadata":{"labels":{"tier":"backend"}}}`)
	if _, err := kube.AppsV1().Deployments(ns).Patch(ctx, nm, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return fmt.Errorf("relabelling: %w", err)
	}
	return nil
}

func wlScaleAndRelabel(ctx context.Context, ns, nm string) error {
	if err := wlScale(ctx, ns, nm); err != nil {
		return err
	}
	return wlRelabel(ctx, ns, nm)
}

// wlHookConfiguration reads the webhook configuration the stack installed.
func wlHookConfiguration(t *testing.T) *admissionregistrationv1.ValidatingWebhookConfiguration {
	t.Helper()
	vwc, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(context.Background(), hook.ConfigurationName, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("reading the webhook configuration: %v", err)
	}
	if len(vwc.Webhooks) == 0 {
		t.Fatalf("webhook configuration %s has no webhook", vwc.Name)
	}
	return vwc
}

// wlUnknownKind registers ConfigMap CREATEs in e's namespace to the hook,
// as a mistaken configuration would, and expects them denied as a kind the
// hook cannot read.
func wlUnknownKind(t *testing.T, e *wlEnv) {
	ctx := context.Background()
	const label = "e2e.kritis.test/unknown-kind"
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, label, e.ns)
	if _, err := kube.CoreV1().Namespaces().Patch(ctx, e.ns, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatalf("labelling the namespace: %v", err)
	}

	cc := *wlHookConfiguration(t).Webhooks[0].ClientConfig.DeepCopy()
	switch {
	case cc.URL != nil:
		u, err := url.Parse(*cc.URL)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = hook.WorkloadsPath
		s := u.String()
		cc.URL = &s
	case cc.Service != nil:
		p := hook.WorkloadsPath
		cc.Service.Path = &p
	default:
		t.Fatal("the hook's client config has neither URL nor service")
	}
	const webhookName = "unknown-kind.e2e.kritis.test"
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	timeout := int32(hook.TimeoutSeconds)
	scope := admissionregistrationv1.NamespacedScope
	vwc := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "e2e-unknown-kind-"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         webhookName,
			ClientConfig: cc,
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{
					APIGroups: []string{""}, APIVersions: []string{"v1"}, Resources: []string{"configmaps"}, Scope: &scope,
				},
			}},
			FailurePolicy:           &fail,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{label: e.ns}},
		}},
	}
	vwc, err := kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, vwc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("creating the mistaken webhook configuration: %v", err)
	}
	t.Cleanup(func() {
		_ = kube.AdmissionregistrationV1().ValidatingWebhookConfigurations().Delete(context.Background(), vwc.Name, metav1.DeleteOptions{})
	})

	// The API server picks the new configuration up within moments; until
	// then a ConfigMap is admitted without asking the hook.
	cm := func() error {
		return crc.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "cm-", Namespace: e.ns},
			Data:       map[string]string{"k": "v"},
		})
	}
	deadline := time.Now().Add(20 * time.Second)
	var err2 error
	for {
		err2 = crc.Create(ctx, &corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{GenerateName: "probe-", Namespace: e.ns},
		}, client.DryRunAll)
		if err2 != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s after registering ConfigMaps to the hook, a ConfigMap is still admitted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	err = cm()
	if err == nil {
		t.Fatal("want the ConfigMap denied (fail closed), but it was admitted")
	}
	msg := err.Error()
	for _, want := range []string{
		fmt.Sprintf("admission webhook %q denied the request", webhookName),
		"ConfigMap",
		"is not supported",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("denial lacks %q:\n%s", want, msg)
		}
	}
	t.Logf("denial: %s", msg)
}

// wlMalformed POSTs bodies that are not AdmissionReviews straight to each
// of the hook's URLs, expecting 400, and then a well-formed review,
// expecting a denial carrying the request's UID.
func wlMalformed(t *testing.T, e *wlEnv) {
	vwc := wlHookConfiguration(t)
	for _, wh := range vwc.Webhooks {
		if wh.ClientConfig.URL == nil {
			t.Fatalf("webhook %s has no URL", wh.Name)
		}
		hookURL := *wh.ClientConfig.URL
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(wh.ClientConfig.CABundle) {
			t.Fatalf("webhook %s: no certificate in its CABundle", wh.Name)
		}
		hc := &http.Client{
			Timeout:   15 * time.Second,
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
		}
		post := func(body []byte) (int, []byte) {
			t.Helper()
			resp, err := hc.Post(hookURL, "application/json", bytes.NewReader(body))
			if err != nil {
				t.Fatalf("POST %s: %v", hookURL, err)
			}
			defer resp.Body.Close()
			out, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, out
		}

		uid := uuid.NewUUID()
		valid := wlReview(t, e.ns, uid)
		bad := []struct {
			name string
			body []byte
		}{
			{"not JSON", []byte("this is not an admission review")},
			{"empty", nil},
			{"truncated AdmissionReview", valid[:len(valid)/2]},
			{"JSON of another kind", []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"},"data":{"a":"b"}}`)},
			{"AdmissionReview without a request", []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`)},
			{"JSON array", []byte(`[1,2,3]`)},
		}
		for _, b := range bad {
			if code, out := post(b.body); code != http.StatusBadRequest {
				t.Errorf("%s: POST %s (%s): want HTTP 400, got %d: %s", wh.Name, hookURL, b.name, code, out)
			}
		}

		// Still answering, and answering the right request.
		code, out := post(valid)
		if code != http.StatusOK {
			t.Fatalf("%s: valid review after malformed ones: want HTTP 200, got %d: %s", wh.Name, code, out)
		}
		var review admissionv1.AdmissionReview
		if err := json.Unmarshal(out, &review); err != nil {
			t.Fatalf("%s: answer is not an AdmissionReview: %v\n%s", wh.Name, err, out)
		}
		switch r := review.Response; {
		case r == nil:
			t.Errorf("%s: answer has no response: %s", wh.Name, out)
		case r.UID != uid:
			t.Errorf("%s: answer's UID %q, want %q", wh.Name, r.UID, uid)
		case r.Allowed:
			t.Errorf("%s: a Pod with a tag image in a namespace with a policy was allowed: %s", wh.Name, out)
		case r.Result == nil || !strings.Contains(r.Result.Message, "image busybox:1 is not attested"):
			t.Errorf("%s: denial lacks the image: %s", wh.Name, out)
		}
	}
	if resp, err := http.Get(stk.HealthURL); err != nil {
		t.Errorf("readiness after malformed requests: %v", err)
	} else {
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("readiness after malformed requests: HTTP %d", resp.StatusCode)
		}
	}
}

// wlReview encodes an AdmissionReview asking to create a Pod running
// busybox:1 (a tag, never verifiable) in ns.
func wlReview(t *testing.T, ns string, uid types.UID) []byte {
	t.Helper()
	pod := wlPod(ns, "busybox:1")
	pod.Name = "direct"
	pod.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"}
	raw, err := json.Marshal(pod)
	if err != nil {
		t.Fatal(err)
	}
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       uid,
			Kind:      metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
			Resource:  metav1.GroupVersionResource{Version: "v1", Resource: "pods"},
			Name:      pod.Name,
			Namespace: ns,
			Operation: admissionv1.Create,
			Object:    runtime.RawExtension{Raw: raw},
		},
	}
	body, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	return body
}
