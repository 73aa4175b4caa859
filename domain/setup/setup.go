// Package setup checks what an administrator sets a project up with
// (issue 17, M1, M4, S1): codes and names, sites, customers, usernames,
// roles and tariff codes.
// The API's handlers and the demo loader (store/demo) refuse the same
// input with the same words, so the demo is built only of what the API
// would accept.
package setup

import (
	"regexp"

	"github.com/voltflow/voltflow/domain/access"
)

// Problem is one refused field and what is wrong with it; Detail is the
// sentence the API answers with.
type Problem struct {
	Field, Detail string
}

func (p *Problem) Error() string { return p.Detail }

// code is an organisation, project or unit code.
var code = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// username is an operator's login name.
var username = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$`)

// tariffCode is a tariff's code in its project.
var tariffCode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// phone is a customer's telephone number.
var phone = regexp.MustCompile(`^\+?[0-9][0-9 -]{2,19}$`)

// CheckCode checks an organisation, project or unit: a code of 1–64
// letters, digits, _ . - and a name.
func CheckCode(c, name string) *Problem {
	if !code.MatchString(c) {
		return &Problem{"code", "code: 1–64 of letters, digits, _ . -"}
	}
	if name == "" {
		return &Problem{"name", "name is required"}
	}
	return nil
}

// CheckSite checks a site of the tree; the parent's level is the store's
// check (store/site).
func CheckSite(name string, level int) *Problem {
	if name == "" {
		return &Problem{"name", "name is required"}
	}
	if level < 1 || level > 4 {
		return &Problem{"level", "level: 1–4"}
	}
	return nil
}

// CheckCustomer checks a customer: a name, a phone number if any, and a
// kind of person or company.
func CheckCustomer(name, tel, kind string) *Problem {
	switch {
	case name == "":
		return &Problem{"name", "name is required"}
	case tel != "" && !phone.MatchString(tel):
		return &Problem{"phone", "phone: 3–20 digits"}
	case kind != "person" && kind != "company":
		return &Problem{"kind", "kind: person or company"}
	}
	return nil
}

// CheckUsername checks an operator's login name. Its password is
// access.CheckPassword's.
func CheckUsername(u string) *Problem {
	if !username.MatchString(u) {
		return &Problem{"username", "username: 1–64 of letters, digits, _ . @ -"}
	}
	return nil
}

// CheckRole checks a role to grant.
func CheckRole(role string) *Problem {
	if !access.Role(role).Valid() {
		return &Problem{"role", "role: one of admin, cashier, approver, maintenance, viewer"}
	}
	return nil
}

// CheckTariffCode checks a tariff's code; the tariff itself is
// domain/tariff.Tariff.Validate's.
func CheckTariffCode(c string) *Problem {
	if !tariffCode.MatchString(c) {
		return &Problem{"code", "code must be 1 to 32 letters, digits, '_', '.' or '-'"}
	}
	return nil
}

// ValidPhone reports whether s is a telephone number as customers and alarm
// recipients carry them.
func ValidPhone(s string) bool { return phone.MatchString(s) }
