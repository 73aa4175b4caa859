// Package access holds operator roles and what each may do. Roles are granted
// per project: an operator sees only the projects it holds a role in.
package access

import "slices"

// Role of an operator within a project.
type Role string

const (
	Admin       Role = "admin"
	Cashier     Role = "cashier"     // sells (售电), takes recharges
	Approver    Role = "approver"    // reviews and books (审核, 记账)
	Maintenance Role = "maintenance" // alarms, work orders, device logs (运维)
	Viewer      Role = "viewer"
	// HQ is the group headquarters (集团总部): held on an organisation, it
	// views every project of it (data and reports) and writes nothing.
	HQ Role = "hq"
)

// Roles lists every project role, for validation and the admin user (HQ
// is held on an organisation, not granted per project).
var roles = []Role{Admin, Cashier, Approver, Maintenance, Viewer}

// AllRoles returns every role.
func AllRoles() []Role { return slices.Clone(roles) }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(roles, r) }

// Action is something an operator asks to do.
type Action string

const (
	SellEnergy     Action = "sell"       // create recharges
	DecideApproval Action = "approve"    // approve / reject tasks of the approver role
	Redispatch     Action = "redispatch" // re-send a sale the meter did not take
	ViewData       Action = "view"
	ControlMeter   Action = "control" // switch a meter off/on (拉闸/合闸), redispatch a failed command
	// DispatchStation is power dispatch of charging stations: kept to
	// maintenance when the cashier gained meter control (seed 003's sale
	// terminal switches meters, it does not plan station power).
	DispatchStation Action = "dispatch"
	OpenAccount     Action = "open_account" // 开户 at the service desk
	// ReplaceMeter is 换表: field work that retires a meter and moves its
	// balance, so it stays with maintenance although cashiers switch meters.
	ReplaceMeter Action = "replace_meter"
	// ManageSafety sets safety limits (安全用电) and restores a meter they
	// locked out: a manager who has checked the premises (seed 002).
	ManageSafety Action = "manage_safety"
)

var grants = map[Action][]Role{
	SellEnergy:      {Admin, Cashier},
	DecideApproval:  {Admin, Approver},
	Redispatch:      {Admin, Cashier, Maintenance},
	ViewData:        {Admin, Cashier, Approver, Maintenance, Viewer, HQ},
	ControlMeter:    {Admin, Cashier, Maintenance},
	DispatchStation: {Admin, Maintenance},
	OpenAccount:     {Admin, Cashier},
	ReplaceMeter:    {Admin, Maintenance},
	ManageSafety:    {Admin, Maintenance},
}

// Grants maps project id to the roles held there.
type Grants map[string][]Role

// Can reports whether the roles held in a project allow the action.
func (g Grants) Can(project string, a Action) bool {
	for _, r := range g[project] {
		if slices.Contains(grants[a], r) {
			return true
		}
	}
	return false
}

// Has reports whether a role is held in a project (admin holds every role).
func (g Grants) Has(project string, r Role) bool {
	return slices.Contains(g[project], r) || slices.Contains(g[project], Admin)
}

// Projects lists the projects the operator may see.
func (g Grants) Projects() []string {
	out := make([]string, 0, len(g))
	for p := range g {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
