package e2e

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkAdmission measures a Pod CREATE (server-side dry run) through
// the real API server, the webhook over TLS and the real registry: a
// signed image by digest (one signature manifest and blob fetched per
// request) and a tag (denied without a registry call). Run with
// go test ./test/e2e -run '^$' -bench Admission -benchtime 200x.
func BenchmarkAdmission(b *testing.B) {
	k := mustKey(b, "ecdsa-p256")
	ns := namespace(b)
	// As in a real cluster, where the controller manager creates it.
	if _, err := kube.CoreV1().ServiceAccounts(ns).Create(context.Background(), &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default"}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	authority(b, ns, "aa", k.Public(), "")
	policy(b, ns, "gap", "aa")
	img := pushRandom(b, "bench/app", "v1")
	sign(b, img, k, img.Context(), img.DigestStr(), "", nil)

	for _, c := range []struct {
		name, image string
		admit       bool
	}{
		{"signed-digest", img.String(), true},
		{"tag-denied", "alpine:3.11", false},
	} {
		b.Run(c.name, func(b *testing.B) {
			var n atomic.Int64
			b.SetParallelism(4) // concurrent clients, as a busy cluster sends
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					pod := podFor(ns, fmt.Sprintf("bench-%d", n.Add(1)), c.image)
					_, err := kube.CoreV1().Pods(ns).Create(context.Background(), pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
					if (err == nil) != c.admit {
						b.Errorf("admit=%v, err=%v", c.admit, err)
						return
					}
				}
			})
		})
	}
}
