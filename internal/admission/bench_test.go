package admission

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkHandleSigned measures one decision for a Pod of three
// containers, two distinct signed images, with signatures served from
// memory: decoding, policy lookup, ECDSA verification and the response.
// Registry round trips come on top in production.
func BenchmarkHandleSigned(b *testing.B) {
	store, src := fixture(b)
	signed := "r.example/app@" + digestA
	req := podRequest(b, "team", corev1.PodSpec{Containers: containers(signed, signed, signed)})
	h := NewHandler(store, SourceOnly{src})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp := h.Handle(ctx, req); !resp.Allowed {
			b.Fatal(resp.Result.Message)
		}
	}
}

// BenchmarkHandleTagDenied measures the denial of a tag, which needs no
// registry: the seed's first case.
func BenchmarkHandleTagDenied(b *testing.B) {
	store, src := fixture(b)
	req := podRequest(b, "team", corev1.PodSpec{Containers: containers("alpine:3.11")})
	h := NewHandler(store, SourceOnly{src})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if resp := h.Handle(ctx, req); resp.Allowed {
			b.Fatal("admitted a tag")
		}
	}
}
