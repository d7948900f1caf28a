package admission

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what the webhooks decide. A nil *Metrics records nothing.
type Metrics struct {
	decisions *prometheus.CounterVec
	images    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
}

// Image outcomes, the label values of kritis_image_checks_total.
const (
	outcomeAttested      = "attested"
	outcomeAllowlisted   = "allowlisted"
	outcomeNotAttested   = "not_attested"
	outcomeTag           = "tag"
	outcomeInvalid       = "invalid_reference"
	outcomeRegistryError = "registry_error"
	outcomeInternalError = "internal_error"
)

// NewMetrics registers the webhooks' metrics with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kritis_admission_decisions_total",
			Help: "Admission requests answered, by webhook (validate, pin) and decision (admitted, denied, dry_run, breakglass, patched).",
		}, []string{"webhook", "decision"}),
		images: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kritis_image_checks_total",
			Help: "Distinct images checked per request, by outcome (attested, allowlisted, not_attested, tag, invalid_reference, registry_error).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "kritis_admission_duration_seconds",
			Help:    "Time to answer an admission request, by webhook.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"webhook"}),
	}
	for _, c := range []prometheus.Collector{m.decisions, m.images, m.latency} {
		if err := reg.Register(c); err != nil {
			var dup prometheus.AlreadyRegisteredError
			if !errors.As(err, &dup) {
				return nil, err
			}
		}
	}
	return m, nil
}

// WithMetrics records decisions and image outcomes in m.
func WithMetrics(m *Metrics) Option { return func(h *settings) { h.metrics = m } }

func (m *Metrics) decision(webhook, decision string, start time.Time) {
	if m == nil {
		return
	}
	m.decisions.WithLabelValues(webhook, decision).Inc()
	m.latency.WithLabelValues(webhook).Observe(time.Since(start).Seconds())
}

func (m *Metrics) image(outcome string) {
	if m == nil {
		return
	}
	m.images.WithLabelValues(outcome).Inc()
}
