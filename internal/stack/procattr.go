package stack

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// sysProcAttr puts a child in its own process group, so that a Ctrl-C in
// the terminal reaches the demo, which then stops its children in order;
// and has the kernel kill the child if the process that started it dies
// without stopping it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// stackPrograms are the programs a stack runs; Reap stops nothing else.
var stackPrograms = map[string]bool{"etcd": true, "kube-apiserver": true, "registry": true, "kritis-validation-hook": true}

// Reap stops the stack's programs whose command line names workDir: what
// is left of a stack whose keeper died (etcd and kube-apiserver are started
// by envtest, which cannot ask the kernel to kill them with their parent).
// It returns the pids it signalled.
func Reap(workDir string) []int {
	abs, err := filepath.Abs(workDir)
	if err != nil || abs == "/" {
		return nil
	}
	needle := []byte(abs + string(filepath.Separator))
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, needle) {
			continue
		}
		argv := bytes.Split(cmdline, []byte{0})
		prog := filepath.Base(string(argv[0]))
		keeper := prog == "kritis" && bytes.Contains(cmdline, []byte("\x00--serve-stack\x00"))
		if !stackPrograms[prog] && !keeper {
			continue
		}
		if syscall.Kill(pid, syscall.SIGTERM) == nil {
			pids = append(pids, pid)
		}
	}
	// Orphans have no state worth a long graceful shutdown (the API
	// server's takes longer than this on its own).
	deadline := time.Now().Add(3 * time.Second)
	for _, pid := range pids {
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	return pids
}
