// Command kritis-validation-hook is the admission webhook server: it admits
// workloads whose images are attested by the authorities that the
// GenericAttestationPolicies of their namespace name.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/kritis-project/kritis/internal/hook"
)

func main() {
	var o hook.Options
	var insecure, breakglass string
	flag.StringVar(&o.Host, "host", "", "address to serve HTTPS on (empty: all)")
	flag.IntVar(&o.Port, "port", 9443, "port to serve HTTPS on")
	flag.StringVar(&o.CertDir, "cert-dir", "/etc/kritis/certs", "directory holding tls.crt and tls.key, reloaded on change")
	flag.StringVar(&o.ClientCAName, "client-ca-name", "", "CA file in --cert-dir; when set, clients (the API server) must present a certificate it signed")
	flag.StringVar(&o.HealthAddr, "health-addr", ":8081", "address of /healthz and /readyz (0 disables)")
	flag.StringVar(&o.MetricsAddr, "metrics-addr", "0", "address of Prometheus /metrics (0 disables)")
	flag.DurationVar(&o.Timeout, "timeout", 8*time.Second, "deadline of one admission decision; keep it below the webhook's timeoutSeconds")
	flag.StringVar(&insecure, "insecure-registries", "", "comma-separated registries (host[:port]) reached over plain HTTP; loopback always is")
	flag.StringVar(&o.TagPolicy, "tag-policy", "Deny", "what happens to images referenced by tag where no policy says: Deny, or Pin (resolve and rewrite to name:tag@digest)")
	flag.StringVar(&o.RegistryCAFile, "registry-ca-file", "", "PEM bundle of private CAs trusted for registries, in addition to the system's")
	flag.StringVar(&breakglass, "breakglass-groups", "", "comma-separated groups whose members may use the kritis.grafeas.io/breakglass annotation (empty: anyone who may create the object)")
	flag.BoolVar(&o.DryRun, "dry-run", false, "admit what would be denied, with a warning and a DryRunKritisAdmission event")
	flag.BoolVar(&o.LeaderElection, "leader-elect", false, "elect one replica to write authority status")
	flag.StringVar(&o.LeaderElectionNamespace, "leader-election-namespace", "", "namespace of the leader election Lease (default: the pod's)")
	zo := zap.Options{}
	zo.BindFlags(flag.CommandLine)
	flag.Parse()
	if insecure != "" {
		o.InsecureRegistries = strings.Split(insecure, ",")
	}
	if breakglass != "" {
		o.BreakglassGroups = strings.Split(breakglass, ",")
	}
	o.Logger = zap.New(zap.UseFlagOptions(&zo))

	cfg, err := ctrl.GetConfig()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kritis-validation-hook: %v\n", err)
		os.Exit(1)
	}
	if err := hook.Run(ctrl.SetupSignalHandler(), cfg, o); err != nil {
		fmt.Fprintf(os.Stderr, "kritis-validation-hook: %v\n", err)
		os.Exit(1)
	}
}
