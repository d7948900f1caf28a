package e2e

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

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
