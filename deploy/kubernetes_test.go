package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/retentiond/retentiond"
	"github.com/retentiond/retentiond/policy"
)

const k8sDir = "kubernetes"

// manifests is everything deploy/kubernetes/ declares, decoded strictly.
type manifests struct {
	deployment     *deployment
	cronJob        *cronJob
	service        *service
	pvc            *persistentVolumeClaim
	namespace      *namespace
	serviceAccount *serviceAccount
	files          map[string]string // resource file -> kind
}

func loadManifests(t *testing.T, files []string) manifests {
	t.Helper()
	m := manifests{files: map[string]string{}}
	for _, f := range files {
		for i, doc := range documents(t, filepath.Join(k8sDir, f)) {
			var tm typeMeta
			if err := doc.Decode(&tm); err != nil {
				t.Fatalf("%s document %d: %v", f, i+1, err)
			}
			what := fmt.Sprintf("%s document %d (%s)", f, i+1, tm.Kind)
			m.files[f] = tm.Kind
			var target any
			switch want := map[string]string{
				"Deployment": "apps/v1", "CronJob": "batch/v1", "Service": "v1", "PersistentVolumeClaim": "v1",
				"Namespace": "v1", "ServiceAccount": "v1",
			}[tm.Kind]; {
			case want == "":
				t.Fatalf("%s: kind %q is not one the test knows; add it to deploy/k8s_types_test.go", what, tm.Kind)
			case tm.APIVersion != want:
				t.Errorf("%s: apiVersion %q, want %q", what, tm.APIVersion, want)
			}
			switch tm.Kind {
			case "Deployment":
				m.deployment = &deployment{}
				target = m.deployment
			case "CronJob":
				m.cronJob = &cronJob{}
				target = m.cronJob
			case "Service":
				m.service = &service{}
				target = m.service
			case "PersistentVolumeClaim":
				m.pvc = &persistentVolumeClaim{}
				target = m.pvc
			case "Namespace":
				m.namespace = &namespace{}
				target = m.namespace
			case "ServiceAccount":
				m.serviceAccount = &serviceAccount{}
				target = m.serviceAccount
			}
			decodeStrict(t, what, doc, target)
		}
	}
	return m
}

func loadKustomization(t *testing.T, path string) kustomization {
	t.Helper()
	docs := documents(t, path)
	if len(docs) != 1 {
		t.Fatalf("%s: %d documents, want 1", path, len(docs))
	}
	var k kustomization
	decodeStrict(t, path, docs[0], &k)
	return k
}

// TestKubernetes checks the fields of deploy/kubernetes/ that decide
// whether retentiond works and is safe there, against the code: the
// variables it reads, the port it listens on, the paths it serves.
func TestKubernetes(t *testing.T) {
	t.Parallel()
	k := loadKustomization(t, filepath.Join(k8sDir, "kustomization.yaml"))
	if k.APIVersion != "kustomize.config.k8s.io/v1beta1" || k.Kind != "Kustomization" {
		t.Errorf("kustomization.yaml: %s %s", k.APIVersion, k.Kind)
	}
	for _, f := range k.Resources {
		if _, err := os.Stat(filepath.Join(k8sDir, f)); err != nil {
			t.Errorf("kustomization.yaml lists %s: %v", f, err)
		}
	}
	// The CronJob is the documented alternative, left out of resources;
	// it is checked all the same.
	if slices.Contains(k.Resources, "cronjob.yaml") && slices.Contains(k.Resources, "deployment.yaml") {
		t.Error("kustomization.yaml lists both the Deployment and the CronJob: each runs on its own schedule")
	}
	m := loadManifests(t, append(slices.Clone(k.Resources), "cronjob.yaml"))
	if m.deployment == nil || m.cronJob == nil || m.service == nil || m.pvc == nil {
		t.Fatalf("want a Deployment, a CronJob, a Service and a PersistentVolumeClaim; have %v", m.files)
	}
	if m.namespace == nil || m.namespace.Metadata.Name != k.Namespace {
		t.Errorf("kustomization.yaml's namespace %q has no Namespace resource", k.Namespace)
	}
	if sa := m.serviceAccount; sa == nil || sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the ServiceAccount must not mount an API token: retentiond never calls the Kubernetes API")
	}

	// The policy ConfigMap comes from policies.yaml, which starts as the
	// example byte for byte: until someone edits it, run and serve refuse
	// to delete with it.
	var policyCM string
	for _, g := range k.ConfigMapGenerator {
		for _, f := range g.Files {
			if _, err := os.Stat(filepath.Join(k8sDir, f)); err != nil {
				t.Errorf("configMapGenerator %s: %v", g.Name, err)
			}
			if f == "policies.yaml" {
				policyCM = g.Name
			}
		}
	}
	if policyCM == "" {
		t.Fatal("no configMapGenerator for policies.yaml")
	}
	policyBytes := readFile(t, filepath.Join(k8sDir, "policies.yaml"))
	if !bytes.Equal(policyBytes, retentiond.ExamplePolicy) {
		t.Error("deploy/kubernetes/policies.yaml differs from policies.example.yaml: cp policies.example.yaml deploy/kubernetes/policies.yaml")
	}
	if _, err := policy.ParseFile("deploy/kubernetes/policies.yaml", policyBytes); err != nil {
		t.Errorf("deploy/kubernetes/policies.yaml: %v", err)
	}

	var images []string
	for _, img := range k.Images {
		images = append(images, img.Name)
	}

	d := m.deployment
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
		t.Error("Deployment: want replicas: 1")
	}
	if d.Spec.Strategy.Type != "Recreate" {
		t.Errorf("Deployment: strategy %q; the ReadWriteOnce archive volume needs Recreate", d.Spec.Strategy.Type)
	}
	for k, v := range d.Spec.Selector.MatchLabels {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Deployment: selector %s=%s does not match the pod's labels", k, v)
		}
	}
	serve := checkPod(t, "Deployment", d.Spec.Template.Spec, policyCM, images, m.pvc.Metadata.Name)
	if !slices.Equal(serve.Args, []string{"serve"}) {
		t.Errorf("Deployment: args %q, want [serve]", serve.Args)
	}
	env := plainEnv(serve)
	port := listenPort(t, env)
	ports := map[string]int{}
	for _, p := range serve.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != port {
		t.Errorf("Deployment: containerPort http = %d, want %d (HTTP_ADDR)", ports["http"], port)
	}
	for name, c := range map[string]struct {
		probe *probe
		path  string
	}{
		"startupProbe":   {serve.StartupProbe, "/healthz"},
		"livenessProbe":  {serve.LivenessProbe, "/healthz"},
		"readinessProbe": {serve.ReadinessProbe, "/readyz"},
	} {
		if c.probe == nil || c.probe.HTTPGet == nil {
			t.Errorf("Deployment: no HTTP %s", name)
			continue
		}
		if c.probe.HTTPGet.Path != c.path {
			t.Errorf("Deployment: %s path %q, want %q", name, c.probe.HTTPGet.Path, c.path)
		}
		if got := resolvePort(c.probe.HTTPGet.Port, ports); got != port {
			t.Errorf("Deployment: %s port %v is %d, want %d (HTTP_ADDR)", name, c.probe.HTTPGet.Port, got, port)
		}
	}
	if p := serve.ReadinessProbe; p != nil && p.TimeoutSeconds <= 5 {
		// /readyz gives its checks 5 seconds; a probe that gives up
		// sooner reports a slow database as a dead one.
		t.Errorf("Deployment: readinessProbe timeoutSeconds %d, want more than /readyz's 5s", p.TimeoutSeconds)
	}

	s := m.service
	for k, v := range s.Spec.Selector {
		if d.Spec.Template.Metadata.Labels[k] != v {
			t.Errorf("Service: selector %s=%s does not select the Deployment's pods", k, v)
		}
	}
	if len(s.Spec.Ports) != 1 || resolvePort(s.Spec.Ports[0].TargetPort, ports) != port {
		t.Errorf("Service: want one port whose targetPort is the container's %d", port)
	}
	if s.Metadata.Annotations["prometheus.io/port"] != fmt.Sprint(port) || s.Metadata.Annotations["prometheus.io/path"] != "/metrics" {
		t.Errorf("Service: prometheus.io annotations %v, want port %d and /metrics", s.Metadata.Annotations, port)
	}

	cj := m.cronJob.Spec
	if cj.ConcurrencyPolicy != "Forbid" {
		t.Errorf("CronJob: concurrencyPolicy %q, want Forbid", cj.ConcurrencyPolicy)
	}
	if b := cj.JobTemplate.Spec.BackoffLimit; b == nil || *b != 0 {
		t.Error("CronJob: want backoffLimit: 0 (the next scheduled run is the retry)")
	}
	if cj.JobTemplate.Spec.Template.Spec.RestartPolicy != "Never" {
		t.Errorf("CronJob: restartPolicy %q, want Never", cj.JobTemplate.Spec.Template.Spec.RestartPolicy)
	}
	if fields := strings.Fields(cj.Schedule); len(fields) != 5 {
		t.Errorf("CronJob: schedule %q is not 5-field cron", cj.Schedule)
	}
	run := checkPod(t, "CronJob", cj.JobTemplate.Spec.Template.Spec, policyCM, images, m.pvc.Metadata.Name)
	if len(run.Args) == 0 || run.Args[0] != "run" {
		t.Errorf("CronJob: args %q, want run", run.Args)
	}
	if run.LivenessProbe != nil || run.ReadinessProbe != nil || len(run.Ports) != 0 {
		t.Error("CronJob: run serves no HTTP; it needs no ports or probes")
	}
}

// checkPod checks what the Deployment and the CronJob share, and returns
// the retentiond container.
func checkPod(t *testing.T, what string, spec podSpec, policyCM string, images []string, claim string) container {
	t.Helper()
	if len(spec.Containers) != 1 {
		t.Fatalf("%s: %d containers, want 1", what, len(spec.Containers))
	}
	c := spec.Containers[0]
	if !slices.Contains(images, c.Image) {
		t.Errorf("%s: image %q is not one kustomization.yaml's images: sets (%q)", what, c.Image, images)
	}
	if a := spec.AutomountServiceAccountToken; a == nil || *a {
		t.Errorf("%s: want automountServiceAccountToken: false", what)
	}
	sc := spec.SecurityContext
	if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot || sc.RunAsUser == nil || *sc.RunAsUser == 0 {
		t.Errorf("%s: the pod must run as a non-root user (runAsNonRoot, runAsUser)", what)
	}
	if sc.RunAsUser != nil && *sc.RunAsUser != 65532 {
		t.Errorf("%s: runAsUser %d, want the image's nonroot 65532", what, *sc.RunAsUser)
	}
	if sc.FSGroup == nil || sc.SeccompProfile == nil || sc.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s: want fsGroup (archive volume) and seccompProfile RuntimeDefault", what)
	}
	csc := c.SecurityContext
	switch {
	case csc == nil:
		t.Errorf("%s: no container securityContext", what)
	case csc.ReadOnlyRootFilesystem == nil || !*csc.ReadOnlyRootFilesystem:
		t.Errorf("%s: want readOnlyRootFilesystem: true", what)
	case csc.AllowPrivilegeEscalation == nil || *csc.AllowPrivilegeEscalation:
		t.Errorf("%s: want allowPrivilegeEscalation: false", what)
	case csc.Privileged != nil && *csc.Privileged:
		t.Errorf("%s: privileged", what)
	case csc.Capabilities == nil || !slices.Equal(csc.Capabilities.Drop, []string{"ALL"}) || len(csc.Capabilities.Add) != 0:
		t.Errorf("%s: want capabilities drop [ALL], add none", what)
	}
	if c.Resources.Requests["cpu"] == "" || c.Resources.Requests["memory"] == "" || c.Resources.Limits["memory"] == "" {
		t.Errorf("%s: want cpu and memory requests and a memory limit", what)
	}

	volumes := map[string]volume{}
	for _, v := range spec.Volumes {
		volumes[v.Name] = v
	}
	mounts := map[string]volumeMount{} // by path
	for _, vm := range c.VolumeMounts {
		if _, ok := volumes[vm.Name]; !ok {
			t.Errorf("%s: volumeMount %s has no volume", what, vm.Name)
		}
		mounts[vm.MountPath] = vm
	}
	// mountOf finds the volume a file or directory lives on.
	mountOf := func(path string) (volumeMount, volume, bool) {
		for mp, vm := range mounts {
			if under(path, mp) {
				return vm, volumes[vm.Name], true
			}
		}
		return volumeMount{}, volume{}, false
	}

	env := map[string]envVar{}
	for _, e := range c.Env {
		checkVarName(t, what, e.Name)
		if _, dup := env[e.Name]; dup {
			t.Errorf("%s: %s set twice", what, e.Name)
		}
		env[e.Name] = e
		if (e.Value == nil) == (e.ValueFrom == nil) {
			t.Errorf("%s: %s wants exactly one of value and valueFrom", what, e.Name)
		}
	}
	if e, ok := env["GITHUB_TOKEN"]; ok && e.Value != nil {
		t.Errorf("%s: GITHUB_TOKEN as a literal value; use a Secret", what)
	}
	if e, ok := env["DATABASE_URL"]; !ok || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
		t.Errorf("%s: DATABASE_URL must come from a Secret (it holds the password)", what)
	}
	if e, ok := env["DRY_RUN"]; ok && (e.Value == nil || *e.Value != "true") {
		t.Errorf("%s: the manifests start in dry-run; DRY_RUN must be \"true\" (or unset)", what)
	}
	value := func(name string) string {
		if e, ok := env[name]; ok && e.Value != nil {
			return *e.Value
		}
		return ""
	}
	// The token is a file on a secret volume.
	if tf := value("GITHUB_TOKEN_FILE"); tf == "" {
		t.Errorf("%s: want GITHUB_TOKEN_FILE from a Secret", what)
	} else if vm, v, ok := mountOf(tf); !ok || v.Secret == nil || !vm.ReadOnly {
		t.Errorf("%s: GITHUB_TOKEN_FILE %s is not on a read-only Secret volume", what, tf)
	} else if v.Secret.DefaultMode == nil || *v.Secret.DefaultMode&0o007 != 0 {
		t.Errorf("%s: the token's Secret volume must not be world-readable (defaultMode 0440)", what)
	}
	// The policy is the ConfigMap's key, where POLICY_FILE points.
	pf := value("POLICY_FILE")
	if pf == "" {
		pf = "/etc/retentiond/policies.yaml" // the image's ENV
	}
	if vm, v, ok := mountOf(pf); !ok || v.ConfigMap == nil || v.ConfigMap.Name != policyCM || filepath.Join(vm.MountPath, "policies.yaml") != pf {
		t.Errorf("%s: POLICY_FILE %s is not policies.yaml of the ConfigMap %s", what, pf, policyCM)
	}
	// Archives go to a writable persistent volume.
	if ad := value("ARCHIVE_DIR"); ad == "" {
		t.Errorf("%s: want ARCHIVE_DIR on a volume (the example policy archives)", what)
	} else if vm, v, ok := mountOf(ad); !ok || vm.ReadOnly || v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim {
		t.Errorf("%s: ARCHIVE_DIR %s is not on the writable claim %s", what, ad, claim)
	}
	// With a read-only root filesystem, /tmp must be a volume.
	if _, v, ok := mountOf("/tmp"); !ok || v.EmptyDir == nil {
		t.Errorf("%s: want an emptyDir at /tmp (read-only root filesystem)", what)
	}
	return c
}

// plainEnv is a container's literal variables.
func plainEnv(c container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		if e.Value != nil {
			m[e.Name] = *e.Value
		}
	}
	return m
}

// resolvePort is a probe's or a Service's port: a number, or the name of a
// container port.
func resolvePort(p any, named map[string]int) int {
	switch p := p.(type) {
	case int:
		return p
	case string:
		return named[p]
	}
	return -1
}

// TestKubernetesGitHubApp checks the github-app component: a strategic
// merge patch of the Deployment that swaps the token for App credentials.
func TestKubernetesGitHubApp(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(k8sDir, "github-app")
	k := loadKustomization(t, filepath.Join(dir, "kustomization.yaml"))
	if k.APIVersion != "kustomize.config.k8s.io/v1alpha1" || k.Kind != "Component" {
		t.Errorf("github-app: %s %s, want a kustomize Component", k.APIVersion, k.Kind)
	}
	base := loadManifests(t, []string{"deployment.yaml"}).deployment
	if len(k.Patches) != 1 {
		t.Fatalf("github-app: %d patches, want 1", len(k.Patches))
	}
	p := k.Patches[0]
	if p.Target.Kind != "Deployment" || p.Target.Name != base.Metadata.Name {
		t.Errorf("github-app: patch target %s/%s, want Deployment/%s", p.Target.Kind, p.Target.Name, base.Metadata.Name)
	}
	docs := documents(t, filepath.Join(dir, p.Path))
	var patch deployment
	decodeStrict(t, p.Path, docs[0], &patch)
	if len(patch.Spec.Template.Spec.Containers) != 1 || patch.Spec.Template.Spec.Containers[0].Name != base.Spec.Template.Spec.Containers[0].Name {
		t.Fatal("github-app: the patch must name the retentiond container")
	}
	c := patch.Spec.Template.Spec.Containers[0]
	set := map[string]string{}
	for _, e := range c.Env {
		checkVarName(t, "github-app", e.Name)
		switch {
		case e.Patch == "delete":
			set[e.Name] = "(deleted)"
		case e.Value != nil:
			set[e.Name] = *e.Value
		}
	}
	if set["GITHUB_TOKEN_FILE"] != "(deleted)" {
		t.Error("github-app: the patch must delete GITHUB_TOKEN_FILE (retentiond takes a token or an App, not both)")
	}
	for _, name := range []string{"GITHUB_APP_ID", "GITHUB_APP_INSTALLATION_ID", "GITHUB_APP_PRIVATE_KEY_FILE"} {
		if set[name] == "" {
			t.Errorf("github-app: %s not set", name)
		}
	}
	// The key file is on the base's secret mount, whose volume the patch
	// points at the App's Secret.
	var mount string
	for _, vm := range base.Spec.Template.Spec.Containers[0].VolumeMounts {
		if under(set["GITHUB_APP_PRIVATE_KEY_FILE"], vm.MountPath) {
			mount = vm.Name
		}
	}
	vols := patch.Spec.Template.Spec.Volumes
	if mount == "" || len(vols) != 1 || vols[0].Name != mount || vols[0].Secret == nil || vols[0].Secret.SecretName == "" {
		t.Errorf("github-app: GITHUB_APP_PRIVATE_KEY_FILE %s must be on the base's secret mount, patched to the App's Secret", set["GITHUB_APP_PRIVATE_KEY_FILE"])
	}
}
