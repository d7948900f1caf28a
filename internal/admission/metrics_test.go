package admission

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	corev1 "k8s.io/api/core/v1"
)

func TestMetrics(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	store, src := fixture(t)
	h := NewHandler(store, SourceOnly{src}, WithMetrics(m))
	signed := "r.example/app@" + digestA
	h.Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(signed, "alpine:3.11")}))
	h.Handle(context.Background(), podRequest(t, "team", corev1.PodSpec{Containers: containers(signed)}))
	for _, c := range []struct {
		metric prometheus.Collector
		labels []string
		want   float64
	}{
		{m.decisions, []string{"validate", "denied"}, 1},
		{m.decisions, []string{"validate", "admitted"}, 1},
		{m.images, []string{outcomeAttested}, 2},
		{m.images, []string{outcomeTag}, 1},
	} {
		got := testutil.ToFloat64(c.metric.(*prometheus.CounterVec).WithLabelValues(c.labels...))
		if got != c.want {
			t.Errorf("%v = %v, want %v", c.labels, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.latency); n != 1 {
		t.Errorf("latency series = %d, want 1", n)
	}
}
