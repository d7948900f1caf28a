package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kritis-project/kritis/internal/stack"
)

// Options configure the demo.
type Options struct {
	// BinDir holds the built tools and kritis-validation-hook.
	BinDir string
	// WorkDir receives the demo's state (.demo).
	WorkDir string
	// Keep leaves the stack running after the scenario.
	Keep bool
	// Self is the path of the kritis CLI, run for keygen and sign.
	Self string
	// Out receives what a person reads.
	Out io.Writer
}

func (o Options) pidFile() string { return filepath.Join(o.WorkDir, "stack.pid") }
func (o Options) envFile() string { return filepath.Join(o.WorkDir, "env") }

func (o Options) abs() (Options, error) {
	var err error
	if o.BinDir, err = filepath.Abs(o.BinDir); err != nil {
		return o, err
	}
	if o.WorkDir, err = filepath.Abs(o.WorkDir); err != nil {
		return o, err
	}
	return o, nil
}

func (o Options) env(s *stack.Stack) Env {
	return Env{
		Kubeconfig: s.Kubeconfig,
		Registry:   s.Registry,
		Key:        filepath.Join(o.WorkDir, "demo.key"),
		Pub:        filepath.Join(o.WorkDir, "demo.pub"),
		Kritis:     o.Self,
		Kubectl:    filepath.Join(o.BinDir, "kubectl"),
	}
}

func (o Options) stackOptions() stack.Options {
	return stack.Options{
		BinDir:     o.BinDir,
		WorkDir:    o.WorkDir,
		HookBinary: filepath.Join(o.BinDir, "kritis-validation-hook"),
		Progress:   o.Out,
	}
}

// Run runs the demo: the stack, then the scenario. With Keep the stack is
// started in a detached process that outlives this one; Teardown stops it.
func Run(ctx context.Context, o Options) error {
	o, err := o.abs()
	if err != nil {
		return err
	}
	if pid, alive := runningStack(o); alive {
		return fmt.Errorf("a demo stack is already running (pid %d); stop it with `%s demo --teardown`", pid, o.Self)
	}
	stack.Reap(o.WorkDir) // leftovers of a keeper that died
	if err := os.RemoveAll(o.WorkDir); err != nil {
		return err
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return err
	}
	if !o.Keep {
		s, err := stack.Start(ctx, o.stackOptions())
		if err != nil {
			return err
		}
		defer func() {
			fmt.Fprintln(o.Out, "==> stopping the stack")
			if err := s.Stop(); err != nil {
				fmt.Fprintf(o.Out, "stopping: %v\n", err)
			}
		}()
		return Scenario(ctx, o.env(s), o.WorkDir, o.Out)
	}

	env, err := startDetached(ctx, o)
	if err != nil {
		return err
	}
	if err := Scenario(ctx, env, o.WorkDir, o.Out); err != nil {
		fmt.Fprintf(o.Out, "\nthe stack is still running; stop it with `%s demo --teardown`\n", o.Self)
		return err
	}
	fmt.Fprintf(o.Out, "\nthe stack is still running. Go on from here with:\n    source %s\n    $KUBECTL get deployments\n    $KRITIS sign --key $KEY $REGISTRY/<repo>@sha256:<digest>\nstop it with `%s demo --teardown`\n", o.envFile(), o.Self)
	return nil
}

// startDetached re-runs the CLI as the stack's keeper in a new session and
// waits until it has written the env file.
func startDetached(ctx context.Context, o Options) (Env, error) {
	logPath := filepath.Join(o.WorkDir, "stack.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return Env{}, err
	}
	defer logf.Close()
	cmd := exec.Command(o.Self, "demo", "--serve-stack", "--bin-dir", o.BinDir, "--work-dir", o.WorkDir)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Env{}, fmt.Errorf("starting the stack keeper: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	fmt.Fprintf(o.Out, "==> starting the stack in the background (log: %s)\n", logPath)
	deadline := time.After(3 * time.Minute)
	for {
		if b, err := os.ReadFile(o.envFile()); err == nil && strings.Contains(string(b), "KUBECTL=") {
			return parseEnv(string(b)), nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logPath)
			return Env{}, fmt.Errorf("the stack keeper exited (%v):\n%s", err, log)
		case <-deadline:
			return Env{}, fmt.Errorf("the stack did not come up within 3 minutes; see %s", logPath)
		case <-ctx.Done():
			return Env{}, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ServeStack is the keeper: it starts the stack, writes the env and pid
// files, and stops the stack when told to (SIGTERM, SIGINT).
func ServeStack(ctx context.Context, o Options) error {
	o, err := o.abs()
	if err != nil {
		return err
	}
	s, err := stack.Start(ctx, o.stackOptions())
	if err != nil {
		return err
	}
	defer func() { _ = s.Stop() }()
	if err := os.WriteFile(o.pidFile(), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	env := o.env(s)
	tmp := o.envFile() + ".tmp"
	if err := os.WriteFile(tmp, []byte(env.Shell()), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, o.envFile()); err != nil {
		return err
	}
	fmt.Fprintln(o.Out, "stack ready")
	<-ctx.Done()
	fmt.Fprintln(o.Out, "stopping")
	return nil
}

// Teardown stops a kept stack and removes its state.
func Teardown(o Options) error {
	o, err := o.abs()
	if err != nil {
		return err
	}
	pid, alive := runningStack(o)
	if !alive {
		// The keeper may have died and left its children behind.
		if pids := stack.Reap(o.WorkDir); len(pids) > 0 {
			fmt.Fprintf(o.Out, "the stack's keeper was gone; stopped %d leftover processes %v\n", len(pids), pids)
		} else {
			fmt.Fprintln(o.Out, "no demo stack is running")
		}
		return os.RemoveAll(o.WorkDir)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return fmt.Errorf("stopping pid %d: %w", pid, err)
	}
	for range 300 {
		if syscall.Kill(pid, 0) != nil {
			stack.Reap(o.WorkDir) // anything the keeper could not stop
			fmt.Fprintln(o.Out, "demo stack stopped")
			return os.RemoveAll(o.WorkDir)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("the demo stack did not stop within 30s; see " + filepath.Join(o.WorkDir, "stack.log"))
}

func runningStack(o Options) (int, bool) {
	b, err := os.ReadFile(o.pidFile())
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, false
	}
	return pid, syscall.Kill(pid, 0) == nil
}

// parseEnv reads back what Env.Shell wrote.
func parseEnv(s string) Env {
	vals := map[string]string{}
	for _, l := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimPrefix(l, "export "), "=")
		if ok {
			vals[k] = strings.ReplaceAll(strings.Trim(v, "'"), `'\''`, "'")
		}
	}
	return Env{Kubeconfig: vals["KUBECONFIG"], Registry: vals["REGISTRY"], Key: vals["KEY"], Pub: vals["PUB"], Kritis: vals["KRITIS"], Kubectl: vals["KUBECTL"]}
}
