package hook

import (
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Names of the two webhooks, as in the original: the API server puts them
// in every denial ("admission webhook %q denied the request").
const (
	PodsWebhook      = "kritis-validation-hook.grafeas.io"
	WorkloadsWebhook = "kritis-validation-hook-deployments.grafeas.io"
	// ConfigurationName names the ValidatingWebhookConfiguration.
	ConfigurationName = "kritis-validation-hook"
	// PinWebhook names the mutating webhook that pins tags to digests, and
	// PinConfigurationName its MutatingWebhookConfiguration.
	PinWebhook           = "kritis-pin-hook.grafeas.io"
	PinConfigurationName = "kritis-pin-hook"
	// DisableLabel on a namespace with value "disabled" keeps the API
	// server from sending that namespace's requests to the hook.
	DisableLabel = "kritis-validation"
	// TimeoutSeconds is the API server's deadline for the hook. The hook's
	// own deadline (--timeout, 8 s) is shorter so that it can deny with a
	// cause before the API server gives up.
	TimeoutSeconds = 10
)

// WebhookConfiguration returns the validating webhook configuration. client
// gives the client config for a path (a Service in a cluster, a URL in the
// demo and tests); exclude lists namespaces never sent to the hook (its own
// and kube-system, so the cluster can always repair itself).
func WebhookConfiguration(client func(path string) admissionregistrationv1.WebhookClientConfig, exclude ...string) *admissionregistrationv1.ValidatingWebhookConfiguration {
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	equivalent := admissionregistrationv1.Equivalent
	timeout := int32(TimeoutSeconds)
	selector := namespaceSelector(exclude)
	webhook := func(name, path string, rules ...admissionregistrationv1.RuleWithOperations) admissionregistrationv1.ValidatingWebhook {
		return admissionregistrationv1.ValidatingWebhook{
			Name:                    name,
			ClientConfig:            client(path),
			Rules:                   rules,
			FailurePolicy:           &fail,
			MatchPolicy:             &equivalent,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       selector.DeepCopy(),
		}
	}
	return &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: ConfigurationName},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{
			webhook(PodsWebhook, PodsPath, podRules()...),
			webhook(WorkloadsWebhook, WorkloadsPath, workloadRules()...),
		},
	}
}

// PinWebhookConfiguration returns the mutating webhook configuration that
// pins tags to digests. It acts only in namespaces whose policies pin tags
// (or where --tag-policy=Pin applies); elsewhere it answers without a patch.
// The API server calls every mutating webhook before the validating ones,
// so the validating webhook verifies the pinned digest.
func PinWebhookConfiguration(client func(path string) admissionregistrationv1.WebhookClientConfig, exclude ...string) *admissionregistrationv1.MutatingWebhookConfiguration {
	fail := admissionregistrationv1.Fail
	none := admissionregistrationv1.SideEffectClassNone
	equivalent := admissionregistrationv1.Equivalent
	// Run again if a later mutating webhook adds or changes an image.
	again := admissionregistrationv1.IfNeededReinvocationPolicy
	timeout := int32(TimeoutSeconds)
	return &admissionregistrationv1.MutatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
		ObjectMeta: metav1.ObjectMeta{Name: PinConfigurationName},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name:                    PinWebhook,
			ClientConfig:            client(PinPath),
			Rules:                   append(podRules(), workloadRules()...),
			FailurePolicy:           &fail,
			MatchPolicy:             &equivalent,
			SideEffects:             &none,
			TimeoutSeconds:          &timeout,
			AdmissionReviewVersions: []string{"v1"},
			NamespaceSelector:       namespaceSelector(exclude),
			ReinvocationPolicy:      &again,
		}},
	}
}

func namespaceSelector(exclude []string) *metav1.LabelSelector {
	selector := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{
		{Key: DisableLabel, Operator: metav1.LabelSelectorOpNotIn, Values: []string{"disabled"}},
	}}
	if len(exclude) > 0 {
		selector.MatchExpressions = append(selector.MatchExpressions, metav1.LabelSelectorRequirement{
			Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: exclude,
		})
	}
	return selector
}

func rule(group string, resources ...string) admissionregistrationv1.RuleWithOperations {
	scope := admissionregistrationv1.NamespacedScope
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{
			APIGroups: []string{group}, APIVersions: []string{"v1"}, Resources: resources, Scope: &scope,
		},
	}
}

func podRules() []admissionregistrationv1.RuleWithOperations {
	return []admissionregistrationv1.RuleWithOperations{rule("", "pods", "pods/ephemeralcontainers")}
}

func workloadRules() []admissionregistrationv1.RuleWithOperations {
	return []admissionregistrationv1.RuleWithOperations{
		rule("apps", "deployments", "replicasets", "statefulsets", "daemonsets"),
		rule("batch", "jobs", "cronjobs"),
		rule("", "replicationcontrollers"),
	}
}
