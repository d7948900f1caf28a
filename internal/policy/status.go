package policy

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/pkg/attest"
)

// Condition reasons of an authority's Ready condition.
const (
	ReasonKeyParsed  = "KeyParsed"
	ReasonInvalidKey = "InvalidPublicKey"
)

// StatusReconciler writes, into each AttestationAuthority's status, whether
// its key could be parsed, so that a bad key shows in `kubectl get aa`
// before the first denial names it.
type StatusReconciler struct {
	Client client.Client
}

// SetupWithManager registers the reconciler.
func (r *StatusReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("attestationauthority-status").
		For(&v1beta1.AttestationAuthority{}).
		Complete(r)
}

// Reconcile implements reconcile.Reconciler.
func (r *StatusReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var aa v1beta1.AttestationAuthority
	if err := r.Client.Get(ctx, req.NamespacedName, &aa); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	want := aa.Status.DeepCopy()
	want.ObservedGeneration = aa.Generation
	compiled := Compile(&aa)
	cond := metav1.Condition{Type: "Ready", ObservedGeneration: aa.Generation}
	if compiled.Err != nil {
		cond.Status, cond.Reason, cond.Message = metav1.ConditionFalse, ReasonInvalidKey, compiled.Err.Error()
		want.KeyType = ""
	} else {
		cond.Status, cond.Reason = metav1.ConditionTrue, ReasonKeyParsed
		cond.Message = fmt.Sprintf("%d public key(s) ready to verify signatures", len(compiled.Keys))
		var algs []string
		for _, k := range compiled.Keys {
			algs = append(algs, attest.KeyAlgorithm(k.Key))
		}
		want.KeyType = strings.Join(algs, ",")
	}
	meta.SetStatusCondition(&want.Conditions, cond)
	if equality.Semantic.DeepEqual(&aa.Status, want) {
		return ctrl.Result{}, nil
	}
	aa.Status = *want
	if err := r.Client.Status().Update(ctx, &aa); err != nil && !apierrors.IsConflict(err) {
		return ctrl.Result{}, fmt.Errorf("updating status of %s: %w", req.NamespacedName, err)
	} else if err != nil {
		return ctrl.Result{Requeue: true}, nil
	}
	return ctrl.Result{}, nil
}
