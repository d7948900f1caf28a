// Package hook assembles the webhook server: the controller-runtime manager
// with its informer caches, the HTTPS server with certificates reloaded
// from a directory, health and readiness endpoints, the admission handler
// and the controller that reports each authority's key in its status.
package hook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/go-logr/logr"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	ctrladmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/kritis-project/kritis/api/v1beta1"
	"github.com/kritis-project/kritis/internal/admission"
	"github.com/kritis-project/kritis/internal/policy"
	"github.com/kritis-project/kritis/internal/resolve"
	"github.com/kritis-project/kritis/pkg/attest"
)

// Paths the webhook configurations point at. Both serve the same handler:
// it reads the pod spec out of every kind it knows.
const (
	PodsPath      = "/validate/pods"
	WorkloadsPath = "/validate/workloads"
	// PinPath serves the mutating webhook that pins tags to digests.
	PinPath = "/mutate/pin"
)

// Options configure the webhook server.
type Options struct {
	// Host and Port the HTTPS server listens on.
	Host string
	Port int
	// CertDir holds tls.crt and tls.key; they are reloaded when they change.
	CertDir string
	// ClientCAName, a file in CertDir, makes the server require client
	// certificates signed by that CA: only the API server (configured
	// with a client certificate for webhooks) may then send reviews.
	ClientCAName string
	// HealthAddr serves /healthz and /readyz; "0" disables.
	HealthAddr string
	// MetricsAddr serves Prometheus metrics; "0" disables.
	MetricsAddr string
	// Timeout bounds one admission decision. Keep it below the webhook
	// configuration's timeoutSeconds (10 s as shipped).
	Timeout time.Duration
	// InsecureRegistries are registries (host[:port]) reached over plain
	// HTTP. Loopback registries always are.
	InsecureRegistries []string
	// TagPolicy applies where no GenericAttestationPolicy sets one:
	// Deny (the original's) or Pin.
	TagPolicy string
	// RegistryCAFile is a PEM bundle of private CAs trusted for registries
	// in addition to the system's.
	RegistryCAFile string
	// BreakglassGroups limit who may use the breakglass annotation; empty:
	// anyone who may create the object.
	BreakglassGroups []string
	// DryRun admits what would be denied, with a warning and an event
	// (ACK's dry-run mode).
	DryRun bool
	// LeaderElection makes one replica of many write authority status.
	LeaderElection          bool
	LeaderElectionNamespace string
	// Logger receives the server's logs.
	Logger logr.Logger
}

// Validate reports settings that cannot work.
func (o *Options) Validate() error {
	var errs []error
	if o.Port <= 0 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("--port %d is not a TCP port", o.Port))
	}
	if o.CertDir == "" {
		errs = append(errs, errors.New("--cert-dir is required: the API server only calls webhooks over HTTPS"))
	}
	if o.Timeout <= 0 {
		errs = append(errs, fmt.Errorf("--timeout %s must be positive", o.Timeout))
	}
	switch o.TagPolicy {
	case "", v1beta1.TagPolicyDeny, v1beta1.TagPolicyPin:
	default:
		errs = append(errs, fmt.Errorf("--tag-policy %q: want Deny or Pin", o.TagPolicy))
	}
	if o.Timeout >= 30*time.Second {
		errs = append(errs, fmt.Errorf("--timeout %s must be below the API server's largest webhook timeout (30s)", o.Timeout))
	}
	for _, r := range o.InsecureRegistries {
		if _, err := name.NewRegistry(r); err != nil {
			errs = append(errs, fmt.Errorf("--insecure-registry %q: %w", r, err))
		}
	}
	return errors.Join(errs...)
}

// Scheme knows the built-in kinds and kritis.grafeas.io/v1beta1.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("internal error: %v", err))
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		panic(fmt.Sprintf("internal error: %v", err))
	}
	return s
}

// Run serves until ctx ends.
func Run(ctx context.Context, cfg *rest.Config, o Options) error {
	if err := o.Validate(); err != nil {
		return err
	}
	log := o.Logger
	if log.GetSink() == nil {
		log = logr.Discard()
	}
	ctrl.SetLogger(log)
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: Scheme(),
		Logger: log,
		WebhookServer: webhook.NewServer(webhook.Options{
			Host:         o.Host,
			Port:         o.Port,
			CertDir:      o.CertDir,
			ClientCAName: o.ClientCAName,
		}),
		HealthProbeBindAddress:  o.HealthAddr,
		Metrics:                 metricsserver.Options{BindAddress: o.MetricsAddr},
		LeaderElection:          o.LeaderElection,
		LeaderElectionID:        "kritis-validation-hook.grafeas.io",
		LeaderElectionNamespace: o.LeaderElectionNamespace,
	})
	if err != nil {
		return fmt.Errorf("creating manager: %w", err)
	}

	store := policy.NewStore()
	store.SetDefaultTagPolicy(o.TagPolicy)
	if err := store.Watch(ctx, mgr.GetCache()); err != nil {
		return err
	}
	// Service accounts come from an informer cache: a pod that names no
	// pull secret then costs no API call.
	if _, err := mgr.GetCache().GetInformer(ctx, &corev1.ServiceAccount{}); err != nil {
		return fmt.Errorf("watching ServiceAccounts: %w", err)
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("creating a Kubernetes client: %w", err)
	}
	regs, err := newRegistries(kube, o, cachedServiceAccounts{cache: mgr.GetCache(), live: kube}, log)
	if err != nil {
		return err
	}
	metrics, err := admission.NewMetrics(ctrlmetrics.Registry)
	if err != nil {
		return fmt.Errorf("registering metrics: %w", err)
	}
	h := admission.NewHandler(store, regs,
		admission.WithMetrics(metrics),
		admission.WithTimeout(o.Timeout),
		admission.WithDryRun(o.DryRun),
		admission.WithBreakglassGroups(o.BreakglassGroups...),
		admission.WithEventRecorder(mgr.GetEventRecorder("kritis-validation-hook")),
		admission.WithLogger(log.WithName("admission")))
	pinner := admission.NewPinner(store, regs, admission.WithMetrics(metrics), admission.WithTimeout(o.Timeout), admission.WithLogger(log.WithName("pin")))
	recoverPanic := true
	wh := &ctrladmission.Webhook{Handler: h, RecoverPanic: &recoverPanic}
	srv := mgr.GetWebhookServer()
	srv.Register(PodsPath, admission.RejectMalformed(wh))
	srv.Register(WorkloadsPath, admission.RejectMalformed(wh))
	srv.Register(PinPath, admission.RejectMalformed(&ctrladmission.Webhook{Handler: pinner, RecoverPanic: &recoverPanic}))

	if err := (&policy.StatusReconciler{Client: mgr.GetClient()}).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up authority status: %w", err)
	}

	if o.HealthAddr != "0" && o.HealthAddr != "" {
		if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
			return err
		}
		if err := mgr.AddReadyzCheck("webhook", srv.StartedChecker()); err != nil {
			return err
		}
		if err := mgr.AddReadyzCheck("policies", func(*http.Request) error {
			if !store.Synced() {
				return policy.ErrNotSynced
			}
			return nil
		}); err != nil {
			return err
		}
	}
	log.Info("starting", "port", o.Port, "certDir", o.CertDir, "timeout", o.Timeout.String(), "dryRun", o.DryRun)
	return mgr.Start(ctx)
}

// newRegistries builds the registry clients: the hook's own credentials
// are its docker config (DOCKER_CONFIG or ~/.docker/config.json); a
// workload's pull secrets are read per request.
func newRegistries(kube kubernetes.Interface, o Options, sas resolve.ServiceAccountGetter, log logr.Logger) (registries, error) {
	res, err := resolve.New(resolve.Options{
		Kube:               kube,
		ServiceAccounts:    sas,
		Keychain:           authn.DefaultKeychain,
		InsecureRegistries: o.InsecureRegistries,
		CAFile:             o.RegistryCAFile,
		Timeout:            o.Timeout,
		UserAgent:          "kritis-validation-hook",
		Log:                log.WithName("resolve"),
	})
	if err != nil {
		return registries{}, fmt.Errorf("configuring tag resolution: %w", err)
	}
	opts := []attest.Option{attest.WithKeychain(authn.DefaultKeychain), attest.WithUserAgent("kritis-validation-hook")}
	if len(o.InsecureRegistries) > 0 {
		opts = append(opts, attest.WithInsecureRegistries(o.InsecureRegistries...))
	}
	if o.RegistryCAFile != "" {
		tr, err := caTransport(o.RegistryCAFile)
		if err != nil {
			return registries{}, err
		}
		opts = append(opts, attest.WithTransport(tr))
	}
	src, err := attest.NewRegistrySource(opts...)
	if err != nil {
		return registries{}, fmt.Errorf("configuring the registry client: %w", err)
	}
	return registries{resolver: res, source: src}, nil
}

// caTransport trusts the system's roots and those in file.
func caTransport(file string) (http.RoundTripper, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("--registry-ca-file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("--registry-ca-file %s: no PEM certificate in it", file)
	}
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return tr, nil
}
