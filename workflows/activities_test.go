package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	platformbillingacts "github.com/voltflow/voltflow/activities/platformbilling"
	smsacts "github.com/voltflow/voltflow/activities/sms"
	"github.com/voltflow/voltflow/workflows"
)

const activitiesPrefix = "github.com/voltflow/voltflow/activities/"

// The API starts workflows, so it imports workflow packages; it must not
// pull in the activities (their SQL, device I/O and providers) through them.
func TestAPIDependsOnNoActivities(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "./api/...")
	cmd.Dir = ".." // the module root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps ./api/...: %v", err)
	}
	deps := strings.Fields(string(out))
	if !slices.Contains(deps, "github.com/voltflow/voltflow/workflows/recharge") {
		t.Fatalf("go list -deps ./api/... lists %d packages, not the workflows the API starts", len(deps))
	}
	for _, p := range deps {
		if strings.HasPrefix(p, activitiesPrefix) {
			t.Errorf("api depends on %s: workflow packages call activities by name and take their types from store/ or domain/", p)
		}
	}
}

// Workflow packages execute activities by their registered names; only the
// registry (registry.go, the workers' one place) imports the activities.
// Test files may: they register or mock the activities.
func TestWorkflowsDoNotImportActivities(t *testing.T) {
	files := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") ||
			path == "registry.go" {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		files++
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			if strings.HasPrefix(p, activitiesPrefix) {
				t.Errorf("workflows/%s imports %s: execute the activity by name from the package's activities.go", filepath.ToSlash(path), p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 20 {
		t.Fatalf("checked %d files under workflows/, expected the whole tree", files)
	}
}

// An activity executed by a name no worker registers waits for ever (until
// its timeout): every name a workflow package executes must be one the
// registry gives an activity.
func TestExecutedActivitiesAreRegistered(t *testing.T) {
	reg := &activityNames{names: map[string]bool{}}
	workflows.RegisterMain(reg, nil)
	workflows.RegisterDevicesWithHooks(reg, nil, nil, workflows.DeviceHooks{Billing: &platformbillingacts.Activities{}})
	workflows.RegisterAlarms(reg, nil, &smsacts.Activities{})
	workflows.RegisterAlarmConditions(reg, nil)
	workflows.RegisterInterconnect(reg, nil)
	workflows.RegisterChargers(reg, nil, nil)
	workflows.RegisterCredit(reg, nil, nil)
	workflows.RegisterPayments(reg, nil, nil, nil)
	workflows.RegisterArchive(reg, nil, "")

	executed := executedNames(t)
	if len(executed) < 40 {
		t.Fatalf("found %d activities executed by name under workflows/, expected every workflow's", len(executed))
	}
	for name, where := range executed {
		if !reg.names[name] {
			t.Errorf("%s executes activity %q, which no worker registers", where, name)
		}
	}
}

// executedNames finds workflow.ExecuteActivity(ctx, "Name", ...) calls in
// the non-test files under workflows/.
func executedNames(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "ExecuteActivity" {
				return true
			}
			if lit, ok := call.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				name, err := strconv.Unquote(lit.Value)
				if err == nil {
					out[name] = fset.Position(lit.Pos()).String()
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// activityNames records the names activities are registered under, as the
// SDK derives them: a struct's exported methods by method name, a function
// by its name, either prefixed or renamed by RegisterOptions.
type activityNames struct {
	worker.NexusServiceRegistry // never called: no Nexus services
	names                       map[string]bool
}

func (r *activityNames) RegisterActivity(a any) {
	r.RegisterActivityWithOptions(a, activity.RegisterOptions{})
}

func (r *activityNames) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	t := reflect.TypeOf(a)
	if t.Kind() == reflect.Func {
		name := o.Name
		if name == "" {
			full := runtime.FuncForPC(reflect.ValueOf(a).Pointer()).Name()
			name = strings.TrimSuffix(full[strings.LastIndex(full, ".")+1:], "-fm")
		}
		r.names[name] = true
		return
	}
	for i := range t.NumMethod() {
		r.names[o.Name+t.Method(i).Name] = true
	}
}

func (*activityNames) RegisterWorkflow(any)                                         {}
func (*activityNames) RegisterWorkflowWithOptions(any, workflow.RegisterOptions)    {}
func (*activityNames) RegisterDynamicActivity(any, activity.DynamicRegisterOptions) {}
func (*activityNames) RegisterDynamicWorkflow(any, workflow.DynamicRegisterOptions) {}
