// Package bulk checks the sheets of bulk operations (M11, seeds 003/004 批量
// 导入开户 / 批量导入充值): account openings and recharges, row by row and
// across rows, before anything is stored or started. Checks against stored
// data (the meter exists, is open, the hoarding cap) are store/bulk's.
package bulk

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/voltflow/voltflow/domain/identifier"
	meterimportdom "github.com/voltflow/voltflow/domain/meterimport"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
)

// Kind is what a batch does to each row.
type Kind string

// Kinds of batches, as stored in bulk_batches.kind.
const (
	Openings  Kind = "openings"  // 批量开户
	Recharges Kind = "recharges" // 批量充值
)

// Row states, as stored in bulk_rows.state.
const (
	Pending = "pending"
	Running = "running"
	Done    = "done"
	Failed  = "failed"
)

// States lists the row states in the order progress reports them.
var States = []string{Pending, Running, Done, Failed}

// Columns of the sheets by their English names.
const (
	ColMeterNo       = "meter_no"
	ColAmount        = "amount"
	ColTransactionNo = "transaction_no"
	ColCustomerName  = "customer_name"
	ColPhone         = "phone"
	ColUnit          = "unit"
)

// Problem is one thing wrong with a sheet: the meter import's shape
// ({row, column, detail}, row 1 the heading), so one client reads both.
type Problem = meterimportdom.Problem

// aliases are the Chinese headings accepted for each column.
var aliases = map[string]string{
	"表号": ColMeterNo, "电表号": ColMeterNo, "金额": ColAmount, "充值金额": ColAmount, "流水号": ColTransactionNo,
	"交易流水号": ColTransactionNo, "户名": ColCustomerName, "客户名称": ColCustomerName, "姓名": ColCustomerName,
	"电话": ColPhone, "手机号": ColPhone, "房间": ColUnit, "房间编号": ColUnit, "单元": ColUnit,
}

// Template is each kind's heading row, as the downloadable template
// writes it (English name, then the Chinese heading in the second row).
var Template = map[Kind][][2]string{
	Recharges: {{ColMeterNo, "表号"}, {ColAmount, "充值金额"}, {ColTransactionNo, "流水号"}},
	Openings:  {{ColMeterNo, "表号"}, {ColCustomerName, "户名"}, {ColPhone, "电话"}, {ColUnit, "房间编号"}},
}

func columnsOf(k Kind) (required, optional []string) {
	if k == Recharges {
		return []string{ColMeterNo, ColAmount, ColTransactionNo}, nil
	}
	return []string{ColMeterNo, ColCustomerName}, []string{ColPhone, ColUnit}
}

// Row is one checked row; Line counts from 1, the heading.
type Row struct {
	Line          int          `json:"line"`
	MeterNo       string       `json:"meterNo"`
	TransactionNo string       `json:"transactionNo,omitempty"`
	Amount        money.Amount `json:"amount"`
	CustomerName  string       `json:"customerName,omitempty"`
	Phone         string       `json:"phone,omitempty"`
	Unit          string       `json:"unit,omitempty"`
}

// MaxRows bounds a sheet: a batch's rows are checked in one go.
const MaxRows = 10_000

// Hash is the content hash that finds a batch again: the kind and the
// checked rows, not the file's bytes, so a sheet saved again by Excel
// (other bytes, same rows) is the same batch.
func Hash(k Kind, rows []Row) string {
	h := sha256.New()
	_, _ = fmt.Fprintf(h, "%s\n", k)
	for _, r := range rows {
		_, _ = fmt.Fprintf(h, "%q,%q,%s,%q,%q,%q\n", r.MeterNo, r.TransactionNo, r.Amount.String(), r.CustomerName, r.Phone, r.Unit)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Read checks a whole sheet (heading first) on its own: the heading, each
// cell, and across rows a meter or transaction number given twice. Blank
// rows are skipped. Problems mean nothing may start.
func Read(k Kind, sheet [][]string) ([]Row, []Problem) {
	if len(sheet) == 0 {
		return nil, []Problem{{Line: 1, Detail: "the sheet is empty"}}
	}
	required, optional := columnsOf(k)
	col := map[string]int{}
	var problems []Problem
	for i, h := range sheet[0] {
		name := strings.ToLower(strings.TrimSpace(h))
		if a, ok := aliases[strings.TrimSpace(h)]; ok {
			name = a
		}
		switch {
		case name == "":
		case !contains(required, name) && !contains(optional, name):
			problems = append(problems, Problem{Line: 1, Column: h, Detail: "unknown column"})
		case col[name] != 0:
			problems = append(problems, Problem{Line: 1, Column: name, Detail: "column given twice"})
		default:
			col[name] = i + 1
		}
	}
	for _, name := range required {
		if col[name] == 0 {
			problems = append(problems, Problem{Line: 1, Column: name, Detail: "required column missing"})
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	var rows []Row
	meters, txns := map[string]int{}, map[string]int{}
	for i, cells := range sheet[1:] {
		line := i + 2
		get := func(name string) string {
			if c := col[name]; c > 0 && c <= len(cells) {
				return strings.TrimSpace(cells[c-1])
			}
			return ""
		}
		if blank(cells) {
			continue
		}
		if len(rows) == MaxRows {
			problems = append(problems, Problem{Line: line, Detail: fmt.Sprintf("more than %d rows: split the sheet", MaxRows)})
			break
		}
		fail := func(column, detail string) {
			problems = append(problems, Problem{Line: line, Column: column, Detail: detail})
		}
		r := Row{Line: line, MeterNo: get(ColMeterNo)}
		switch {
		case r.MeterNo == "":
			fail(ColMeterNo, "required")
		case identifier.MeterNo(r.MeterNo) != nil:
			fail(ColMeterNo, "at most 32 characters, without spaces, control characters or / ? # %")
		}
		if k == Recharges {
			r.TransactionNo = get(ColTransactionNo)
			if r.TransactionNo == "" {
				fail(ColTransactionNo, "required")
			} else if first, ok := txns[r.TransactionNo]; ok {
				fail(ColTransactionNo, fmt.Sprintf("transaction number %s is also on row %d", r.TransactionNo, first))
			} else {
				txns[r.TransactionNo] = line
			}
			r.Amount = amount(get(ColAmount), func(d string) { fail(ColAmount, d) })
			if max := rechargedom.DefaultPolicy().MaxAmount; r.Amount.GreaterThan(max) {
				fail(ColAmount, fmt.Sprintf("%s > %s: %s", r.Amount, max, rechargedom.ErrAmountTooLarge))
			}
			if r.TransactionNo != "" && errors.Is(rechargedom.DefaultPolicy().Validate(rechargedom.Request{
				MeterNo: "M", Amount: money.MustParse("1.00"), TransactionNo: r.TransactionNo}), rechargedom.ErrTransactionNo) {
				fail(ColTransactionNo, rechargedom.ErrTransactionNo.Error())
			}
		} else {
			r.CustomerName, r.Phone, r.Unit = get(ColCustomerName), get(ColPhone), get(ColUnit)
			if r.CustomerName == "" {
				fail(ColCustomerName, "required")
			} else if len([]rune(r.CustomerName)) > 100 {
				fail(ColCustomerName, "at most 100 characters")
			}
			if r.Phone != "" && !phone(r.Phone) {
				fail(ColPhone, "a phone number: digits, optionally a leading + and dashes")
			}
			if r.MeterNo != "" {
				if first, ok := meters[r.MeterNo]; ok {
					fail(ColMeterNo, fmt.Sprintf("meter %s is also on row %d: one account per meter", r.MeterNo, first))
				} else {
					meters[r.MeterNo] = line
				}
			}
		}
		rows = append(rows, r)
	}
	if len(rows) == 0 && len(problems) == 0 {
		problems = append(problems, Problem{Line: 2, Detail: "the sheet has no rows"})
	}
	return rows, problems
}

// amount reads a money cell: Excel writes numbers as it likes ("100",
// "99.5"), so any decimal with at most two places is taken.
func amount(s string, fail func(string)) money.Amount {
	if s == "" {
		fail("required")
		return money.Amount{}
	}
	a, err := money.Parse(s)
	if err != nil {
		fail("a decimal with at most 2 places, e.g. 100.00")
		return money.Amount{}
	}
	if !a.IsPositive() {
		fail(rechargedom.ErrAmountNotPositive.Error())
	}
	return a
}

func phone(s string) bool {
	if len(s) > 20 {
		return false
	}
	for i, c := range s {
		if !(c >= '0' && c <= '9' || c == '-' || c == '+' && i == 0) {
			return false
		}
	}
	return true
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
