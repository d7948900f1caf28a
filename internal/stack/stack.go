// Package stack starts the real parts the demo and the end-to-end tests run
// on, all on loopback: etcd and kube-apiserver (through controller-runtime's
// envtest, from the binaries hack/tools.sh builds), the CNCF distribution
// registry, and the webhook, registered with the API server under its two
// names with a freshly generated serving certificate.
package stack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kritis-project/kritis/config"
	"github.com/kritis-project/kritis/internal/hook"
)

// Options configure a stack.
type Options struct {
	// BinDir holds etcd, kube-apiserver, kubectl and registry.
	BinDir string
	// WorkDir receives data, certificates, logs and the kubeconfig.
	WorkDir string
	// HookBinary, when set, is run as the webhook process. When empty the
	// webhook runs inside the calling process (tests).
	HookBinary string
	// HookArgs are extra flags for the webhook.
	HookArgs []string
	// HookLogger receives the in-process webhook's logs.
	HookLogger logr.Logger
	// Progress receives one line per step; nil discards.
	Progress io.Writer
}

// Stack is a running set of real parts.
type Stack struct {
	// Config reaches the API server as cluster admin.
	Config *rest.Config
	// Kubeconfig is the path of an admin kubeconfig for kubectl.
	Kubeconfig string
	// Registry is the registry's host:port.
	Registry string
	// HealthURL is the webhook's readiness endpoint.
	HealthURL string

	opts     Options
	env      *envtest.Environment
	procs    []proc
	cancel   context.CancelFunc
	hookDone chan error
	closers  []io.Closer
}

// Start brings the stack up. On error, whatever had started is stopped.
func Start(ctx context.Context, o Options) (_ *Stack, err error) {
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	for _, b := range []string{"etcd", "kube-apiserver", "registry"} {
		if _, err := os.Stat(filepath.Join(o.BinDir, b)); err != nil {
			return nil, fmt.Errorf("%s not found in %s: run hack/tools.sh (make tools) first", b, o.BinDir)
		}
	}
	if err := os.MkdirAll(filepath.Join(o.WorkDir, "logs"), 0o755); err != nil {
		return nil, err
	}
	s := &Stack{opts: o}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()

	crds, err := config.CRDs()
	if err != nil {
		return nil, err
	}
	// envtest rewrites a service reference into a URL of the local
	// server, with its CA; it adds the slash.
	local := func(path string) admissionregistrationv1.WebhookClientConfig {
		rel := strings.TrimPrefix(path, "/")
		return admissionregistrationv1.WebhookClientConfig{Service: &admissionregistrationv1.ServiceReference{Path: &rel}}
	}
	// etcd's and the API server's directories live in WorkDir, so that
	// every process of the stack names WorkDir on its command line and
	// Reap can find them should the process that started them die.
	for _, d := range []string{"etcd", "apiserver", "webhook-certs"} {
		if err := os.MkdirAll(filepath.Join(o.WorkDir, d), 0o700); err != nil {
			return nil, err
		}
	}
	s.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			Etcd:      &envtest.Etcd{DataDir: filepath.Join(o.WorkDir, "etcd")},
			APIServer: &envtest.APIServer{CertDir: filepath.Join(o.WorkDir, "apiserver")},
		},
		BinaryAssetsDirectory: o.BinDir,
		CRDInstallOptions:     envtest.CRDInstallOptions{CRDs: crds},
		WebhookInstallOptions: envtest.WebhookInstallOptions{
			LocalServingHost:   "127.0.0.1",
			ValidatingWebhooks: []*admissionregistrationv1.ValidatingWebhookConfiguration{hook.WebhookConfiguration(local, "kube-system")},
			MutatingWebhooks:   []*admissionregistrationv1.MutatingWebhookConfiguration{hook.PinWebhookConfiguration(local, "kube-system")},
		},
	}
	step(o.Progress, "starting etcd and kube-apiserver (%s)", o.BinDir)
	if s.Config, err = s.env.Start(); err != nil {
		return nil, fmt.Errorf("starting etcd and kube-apiserver: %w", err)
	}
	user, err := s.env.AddUser(envtest.User{Name: "kritis-demo-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("creating an admin user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("writing kubeconfig: %w", err)
	}
	s.Kubeconfig = filepath.Join(o.WorkDir, "kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	if err := s.moveServingCerts(); err != nil {
		return nil, err
	}
	step(o.Progress, "kube-apiserver ready at %s", s.Config.Host)

	if err := s.startRegistry(ctx); err != nil {
		return nil, err
	}
	step(o.Progress, "registry ready at %s", s.Registry)

	if err := s.startHook(ctx); err != nil {
		return nil, err
	}
	step(o.Progress, "webhook ready at https://127.0.0.1:%d", s.env.WebhookInstallOptions.LocalServingPort)
	return s, nil
}

const registryConfig = `version: 0.1
log:
  level: warn
  formatter: text
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: kritis-stack-local-only
`

const registryAuth = `auth:
  htpasswd:
    realm: kritis-stack
    path: %s
`

// Registry is a running distribution registry.
type Registry struct {
	// Host is host:port.
	Host string
	cmd  *exec.Cmd
	done chan struct{}
}

// Stop stops the registry and waits for it to exit.
func (r *Registry) Stop() {
	_ = r.cmd.Process.Signal(os.Interrupt)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// StartRegistry starts another registry on a free loopback port. With
// htpasswd (a file of user:bcrypt-hash lines) it requires basic auth. It is
// stopped with the stack, or before by Stop.
func (s *Stack) StartRegistry(ctx context.Context, name, htpasswd string) (*Registry, error) {
	port, err := FreePort()
	if err != nil {
		return nil, err
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	cfg := filepath.Join(s.opts.WorkDir, name+".yml")
	conf := fmt.Sprintf(registryConfig, filepath.Join(s.opts.WorkDir, name+"-data"), host)
	if htpasswd != "" {
		conf += fmt.Sprintf(registryAuth, htpasswd)
	}
	if err := os.WriteFile(cfg, []byte(conf), 0o644); err != nil {
		return nil, err
	}
	cmd, done, err := s.spawn(filepath.Join(s.opts.BinDir, "registry"), name, "serve", cfg)
	if err != nil {
		return nil, err
	}
	r := &Registry{Host: host, cmd: cmd, done: done}
	// /v2/ answers 401 when auth is on: either answer means it is up.
	if err := waitHTTP(ctx, "http://"+host+"/v2/", nil, 30*time.Second, http.StatusOK, http.StatusUnauthorized); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

func (s *Stack) startRegistry(ctx context.Context) error {
	r, err := s.StartRegistry(ctx, "registry", "")
	if err != nil {
		return err
	}
	s.Registry = r.Host
	return nil
}

func (s *Stack) startHook(ctx context.Context) error {
	wio := &s.env.WebhookInstallOptions
	healthPort, err := FreePort()
	if err != nil {
		return err
	}
	health := "127.0.0.1:" + strconv.Itoa(healthPort)
	s.HealthURL = "http://" + health + "/readyz"
	if s.opts.HookBinary != "" {
		args := append([]string{
			"--kubeconfig", s.Kubeconfig,
			"--host", wio.LocalServingHost,
			"--port", strconv.Itoa(wio.LocalServingPort),
			"--cert-dir", wio.LocalServingCertDir,
			"--health-addr", health,
		}, s.opts.HookArgs...)
		if _, _, err := s.spawn(s.opts.HookBinary, "webhook", args...); err != nil {
			return err
		}
	} else {
		log := s.opts.HookLogger
		if log.GetSink() == nil {
			f, err := os.Create(filepath.Join(s.opts.WorkDir, "logs", "webhook.log"))
			if err != nil {
				return err
			}
			s.closers = append(s.closers, f)
			log = zap.New(zap.WriteTo(f))
		}
		hctx, cancel := context.WithCancel(context.Background())
		s.cancel = cancel
		s.hookDone = make(chan error, 1)
		go func() {
			s.hookDone <- hook.Run(hctx, s.Config, hook.Options{
				Host:        wio.LocalServingHost,
				Port:        wio.LocalServingPort,
				CertDir:     wio.LocalServingCertDir,
				HealthAddr:  health,
				MetricsAddr: "0",
				Timeout:     8 * time.Second,
				Logger:      log,
			})
		}()
	}
	if err := waitHTTP(ctx, s.HealthURL, s.hookDone, 60*time.Second, http.StatusOK); err != nil {
		return fmt.Errorf("webhook not ready: %w", err)
	}
	// The API server must reach it too: wait for the HTTPS listener.
	addr := net.JoinHostPort(wio.LocalServingHost, strconv.Itoa(wio.LocalServingPort))
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true}) // reachability only; the API server verifies the CA
		if err == nil {
			return conn.Close()
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhook HTTPS listener %s: %w", addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// moveServingCerts moves the webhook's serving certificate, which envtest
// always writes to a fresh temporary directory, into WorkDir: a stack whose
// keeper died must not leave a private key behind where teardown does not
// look.
func (s *Stack) moveServingCerts() error {
	wio := &s.env.WebhookInstallOptions
	dst := filepath.Join(s.opts.WorkDir, "webhook-certs")
	for _, f := range []string{"tls.crt", "tls.key"} {
		b, err := os.ReadFile(filepath.Join(wio.LocalServingCertDir, f))
		if err != nil {
			return fmt.Errorf("moving the webhook's serving certificate: %w", err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o600); err != nil {
			return fmt.Errorf("moving the webhook's serving certificate: %w", err)
		}
	}
	if err := os.RemoveAll(wio.LocalServingCertDir); err != nil {
		return err
	}
	wio.LocalServingCertDir = dst
	return nil
}

// spawn starts a process whose output goes to WorkDir/logs/<name>.log;
// done closes when it has exited.
func (s *Stack) spawn(bin, name string, args ...string) (*exec.Cmd, chan struct{}, error) {
	logf, err := os.Create(filepath.Join(s.opts.WorkDir, "logs", name+".log"))
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, nil, fmt.Errorf("starting %s: %w", name, err)
	}
	done := make(chan struct{})
	s.procs = append(s.procs, proc{cmd, done})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	return cmd, done, nil
}

type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Stop stops everything Start started.
func (s *Stack) Stop() error {
	var errs []error
	if s.cancel != nil {
		s.cancel()
		select {
		case <-s.hookDone:
		case <-time.After(10 * time.Second):
			errs = append(errs, errors.New("webhook did not stop within 10s"))
		}
	}
	for _, p := range s.procs {
		_ = p.cmd.Process.Signal(os.Interrupt)
	}
	for _, p := range s.procs {
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	if s.env != nil {
		if err := s.env.Stop(); err != nil {
			errs = append(errs, fmt.Errorf("stopping kube-apiserver and etcd: %w", err))
		}
	}
	for _, c := range s.closers {
		_ = c.Close()
	}
	return errors.Join(errs...)
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers one of the statuses, the deadline
// passes or died delivers (the in-process server gave up).
func waitHTTP(ctx context.Context, url string, died <-chan error, limit time.Duration, statuses ...int) error {
	c := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var last error
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if slices.Contains(statuses, resp.StatusCode) {
				return nil
			}
			err = fmt.Errorf("GET %s: %s", url, resp.Status)
		}
		last = err
		select {
		case err := <-died:
			return fmt.Errorf("server exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last: %v)", url, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func step(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "==> "+format+"\n", args...)
}
