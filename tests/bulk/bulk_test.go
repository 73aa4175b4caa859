package bulk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/internal/eventually"
	"github.com/voltflow/voltflow/tests/harness"
)

const (
	xlsx    = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	project = "/api/v1/projects/demo"
)

type batch struct {
	ID         string         `json:"id"`
	Kind       string         `json:"kind"`
	Status     string         `json:"status"`
	RowCount   int            `json:"rowCount"`
	WorkflowID string         `json:"workflowId"`
	Counts     map[string]int `json:"counts"`
}

type sheetProblem struct {
	Code         string `json:"code"`
	ProblemCount int    `json:"problemCount"`
	Problems     []struct {
		Row    int    `json:"row"`
		Column string `json:"column"`
		Detail string `json:"detail"`
	} `json:"problems"`
}

// workbook writes rows (the heading first) as an xlsx file.
func workbook(t *testing.T, rows [][]any) string {
	t.Helper()
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	for i, row := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func upload(t *testing.T, c *harness.Client, kind, body string) (int, []byte) {
	t.Helper()
	code, raw, _ := c.DoHeaders(t, "POST", project+"/bulk/"+kind, body, map[string]string{"Content-Type": xlsx})
	return code, raw
}

func decodeJSON[T any](t *testing.T, raw []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

func waitCompleted(t *testing.T, c *harness.Client, id string, within time.Duration) batch {
	t.Helper()
	var b batch
	eventually.True(t, within, "batch "+id+" completed", func() (bool, string) {
		b = batch{}
		c.Do(t, "GET", project+"/bulk/"+id, nil, &b)
		return b.Status == "completed", fmt.Sprint(b.Status, b.Counts)
	})
	return b
}

func balance(t *testing.T, code string) money.Amount {
	t.Helper()
	var a money.Amount
	err := stack.DB.QueryRow(context.Background(), `select coalesce((select balance from ledger_accounts
		where project_id=$1 and code=$2), 0)`, stack.ProjectID, code).Scan(&a)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func abs(a money.Amount) money.Amount {
	if a.IsNegative() {
		return a.Neg()
	}
	return a
}

// A sheet of 50 recharges sells each row once: every meter's remaining
// money and purchase counter move by its row, the cash account by the
// sheet's total, each meter wallet by its amount, though the worker is
// killed while the batch runs. The same sheet sent again is the same batch
// and sells nothing more.
func TestRechargeSheetSellsEachRowOnce(t *testing.T) {
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	run := fmt.Sprint(time.Now().UnixNano())
	type row struct {
		meterNo string
		amount  money.Amount
		cents   int64
		counter uint16
		wallet  money.Amount
	}
	rows := make([]row, 50)
	sheet := [][]any{{"表号", "充值金额", "流水号"}}
	total := money.Zero
	for i := range rows {
		r := &rows[i]
		r.meterNo = fmt.Sprintf("M%04d", i+1)
		r.amount = money.MustParse(fmt.Sprintf("%d.%02d", 10+i, (i*7)%100)) // 10.00 … 59.43
		r.cents, r.counter = stack.MeterRegisters(t, r.meterNo)
		r.wallet = balance(t, "meter-wallet:"+r.meterNo)
		total = total.Add(r.amount)
		// Excel writes a number cell for the amount, as an operator's sheet has.
		sheet = append(sheet, []any{r.meterNo, r.amount.Decimal().InexactFloat64(), "BULK-" + run + "-" + fmt.Sprint(i+1)})
	}
	cashBefore := balance(t, "cash")
	body := workbook(t, sheet)
	code, raw := upload(t, cashier, "recharges", body)
	if code != http.StatusAccepted {
		t.Fatalf("upload: status %d: %s", code, raw)
	}
	b := decodeJSON[batch](t, raw)
	if b.RowCount != 50 || b.WorkflowID != "bulk/"+b.ID || b.Kind != "recharges" {
		t.Fatalf("batch %+v", b)
	}
	// The worker dies while the batch runs; the batch resumes where its
	// history says and sells no row twice.
	eventually.True(t, 60*time.Second, "some rows done", func() (bool, string) {
		var now batch
		cashier.Do(t, "GET", project+"/bulk/"+b.ID, nil, &now)
		return now.Counts["done"] >= 5, fmt.Sprint(now.Counts)
	})
	stack.KillWorker()
	if err := stack.StartWorker("main,devices"); err != nil {
		t.Fatal(err)
	}
	done := waitCompleted(t, cashier, b.ID, 3*time.Minute)
	if done.Counts["done"] != 50 || done.Counts["failed"] != 0 {
		t.Fatalf("counts %v; want 50 done", done.Counts)
	}
	check := func(when string) {
		t.Helper()
		for _, r := range rows {
			cents, counter := stack.MeterRegisters(t, r.meterNo)
			if cents-r.cents != r.amount.Cents() || counter != r.counter+1 {
				t.Errorf("%s: meter %s remaining %d→%d, counter %d→%d; want +%d and +1", when, r.meterNo, r.cents, cents, r.counter, counter, r.amount.Cents())
			}
			if d := abs(balance(t, "meter-wallet:"+r.meterNo).Sub(r.wallet)); !d.Equal(r.amount) {
				t.Errorf("%s: wallet of %s moved by %s; want %s", when, r.meterNo, d, r.amount)
			}
		}
		if d := balance(t, "cash").Sub(cashBefore); !abs(d).Equal(total) {
			t.Errorf("%s: cash moved by %s; want the sheet's total %s", when, d, total)
		}
		var n int
		if err := stack.DB.QueryRow(context.Background(), `select count(*) from recharges where transaction_no like $1`, "BULK-"+run+"-%").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 50 {
			t.Errorf("%s: %d recharges of the sheet; want 50", when, n)
		}
	}
	check("after the batch")

	// The same sheet again: the same batch (200), nothing started.
	code, raw = upload(t, cashier, "recharges", body)
	if code != http.StatusOK {
		t.Fatalf("second upload: status %d: %s", code, raw)
	}
	if again := decodeJSON[batch](t, raw); again.ID != b.ID {
		t.Fatalf("second upload answered batch %s; want %s", again.ID, b.ID)
	}
	// The sheet written again (another file of the same rows) is the same batch too.
	if code, raw = upload(t, cashier, "recharges", workbook(t, sheet)); code != http.StatusOK || decodeJSON[batch](t, raw).ID != b.ID {
		t.Fatalf("re-saved sheet: status %d: %s", code, raw)
	}
	// A sheet with one more row is another batch, but its 50 old rows are
	// their transaction numbers' sales: reported, not sold again.
	extra := append(sheet[:len(sheet):len(sheet)], []any{"M0051", "1.00", "BULK-" + run + "-51"})
	cents51, counter51 := stack.MeterRegisters(t, "M0051")
	code, raw = upload(t, cashier, "recharges", workbook(t, extra))
	if code != http.StatusAccepted {
		t.Fatalf("extended sheet: status %d: %s", code, raw)
	}
	b2 := waitCompleted(t, cashier, decodeJSON[batch](t, raw).ID, 2*time.Minute)
	if b2.Counts["done"] != 51 {
		t.Fatalf("extended batch counts %v; want 51 done", b2.Counts)
	}
	total = total.Add(money.MustParse("1.00"))
	cents, counter := stack.MeterRegisters(t, "M0051")
	if cents-cents51 != 100 || counter != counter51+1 {
		t.Errorf("M0051 remaining %d→%d, counter %d→%d; want +100 and +1", cents51, cents, counter51, counter)
	}
	for _, r := range rows {
		cents, counter := stack.MeterRegisters(t, r.meterNo)
		if cents-r.cents != r.amount.Cents() || counter != r.counter+1 {
			t.Errorf("after the extended sheet: meter %s sold again (remaining %d→%d, counter %d→%d)", r.meterNo, r.cents, cents, r.counter, counter)
		}
	}
	if d := balance(t, "cash").Sub(cashBefore); !abs(d).Equal(total) {
		t.Errorf("cash moved by %s; want %s", d, total)
	}

	// The result sheet has a row per line with its outcome.
	code, res, ctype := cashier.DoRaw(t, "GET", project+"/bulk/"+b.ID+"/result.xlsx", nil)
	if code != http.StatusOK || ctype != xlsx {
		t.Fatalf("result.xlsx: status %d %s", code, ctype)
	}
	f, err := excelize.OpenReader(strings.NewReader(string(res)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.GetRows("Sheet1")
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 51 || got[1][1] != "M0001" || got[1][4] != "done" || got[1][5] != "completed" {
		t.Fatalf("result sheet: %d rows, first %v", len(got), got[min(1, len(got)-1)])
	}
}

// A sheet with bad rows is a 422 naming each row and column, and starts
// nothing: no batch, no recharge.
func TestBadSheetStartsNothing(t *testing.T) {
	cashier := stack.Login(t, "cashier", "cashier")
	run := fmt.Sprint(time.Now().UnixNano())
	tests := []struct {
		name  string
		sheet [][]any
		want  [][2]any // row, column
	}{
		{"cells", [][]any{{"meter_no", "amount", "transaction_no"},
			{"M0060", "10.00", "BAD-" + run + "-1"},
			{"M0061", "abc", "BAD-" + run + "-2"},
			{"M0062", "5.00", "BAD-" + run + "-1"},
			{"M0063", "1.234", "BAD-" + run + "-4"}},
			[][2]any{{3, "amount"}, {4, "transaction_no"}, {5, "amount"}}},
		{"stored data", [][]any{{"表号", "充值金额", "流水号"},
			{"M0060", "10.00", "BAD-" + run + "-5"},
			{"M9999", "10.00", "BAD-" + run + "-6"}},
			[][2]any{{3, "meter_no"}}},
		{"heading", [][]any{{"meter_no", "amount"}, {"M0060", "10.00"}}, [][2]any{{1, "transaction_no"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var batches int
			if err := stack.DB.QueryRow(context.Background(), `select count(*) from bulk_batches`).Scan(&batches); err != nil {
				t.Fatal(err)
			}
			code, raw := upload(t, cashier, "recharges", workbook(t, tc.sheet))
			if code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d: %s", code, raw)
			}
			p := decodeJSON[sheetProblem](t, raw)
			if p.Code != "invalid_import" || p.ProblemCount != len(tc.want) {
				t.Fatalf("problem %s; want %v", raw, tc.want)
			}
			for i, w := range tc.want {
				if p.Problems[i].Row != w[0] || p.Problems[i].Column != w[1] {
					t.Errorf("problem %d: %+v; want row %v column %v", i, p.Problems[i], w[0], w[1])
				}
			}
			var after, sales int
			if err := stack.DB.QueryRow(context.Background(), `select (select count(*) from bulk_batches),
				(select count(*) from recharges where transaction_no like $1)`, "BAD-"+run+"-%").Scan(&after, &sales); err != nil {
				t.Fatal(err)
			}
			if after != batches || sales != 0 {
				t.Fatalf("a bad sheet stored %d batches and %d recharges", after-batches, sales)
			}
		})
	}
	// Openings are the admin's: the cashier is refused.
	code, _ := upload(t, cashier, "openings", workbook(t, [][]any{{"表号", "户名"}, {"M0001", "x"}}))
	if code != http.StatusForbidden {
		t.Fatalf("cashier's openings: status %d; want 403", code)
	}
}

// An openings sheet opens an account per row for its customer; a meter
// already open is a 422 naming its row.
func TestOpeningsSheetOpensAccounts(t *testing.T) {
	admin := stack.Login(t, "admin", "admin")
	run := fmt.Sprint(time.Now().UnixNano() % 1_000_000_000)
	csv := "meter_no,gateway,gateway_address,protocol,unit_address,profile,price\n"
	var sheet = [][]any{{"表号", "户名", "电话", "房间编号"}}
	for i := 1; i <= 5; i++ {
		no := fmt.Sprintf("O%s%d", run, i)
		csv += fmt.Sprintf("%s,BULK%s,127.0.0.1:9,modbus-tcp,%d,ref-prepaid-v1,1.2\n", no, run, i)
		unit := ""
		if i == 1 {
			unit = "SHOP-M0001"
		}
		sheet = append(sheet, []any{no, fmt.Sprintf("租户 %s-%d", run, i), fmt.Sprintf("1390000%04d", i), unit})
	}
	if code, body, _ := admin.DoHeaders(t, "POST", project+"/meter-imports", csv, map[string]string{"Content-Type": "text/csv"}); code != http.StatusCreated {
		t.Fatalf("meter import: status %d: %s", code, body)
	}
	// A meter already in an open account (M0001) is refused with its row.
	bad := append(sheet[:3:3], []any{"M0001", "someone", "", ""})
	code, raw := upload(t, admin, "openings", workbook(t, bad))
	if p := decodeJSON[sheetProblem](t, raw); code != http.StatusUnprocessableEntity || len(p.Problems) != 1 || p.Problems[0].Row != 4 || p.Problems[0].Column != "meter_no" {
		t.Fatalf("open meter: status %d: %s", code, raw)
	}
	code, raw = upload(t, admin, "openings", workbook(t, sheet))
	if code != http.StatusAccepted {
		t.Fatalf("openings: status %d: %s", code, raw)
	}
	b := waitCompleted(t, admin, decodeJSON[batch](t, raw).ID, time.Minute)
	if b.Counts["done"] != 5 {
		t.Fatalf("counts %v; want 5 done", b.Counts)
	}
	for i := 1; i <= 5; i++ {
		var name, status string
		if err := stack.DB.QueryRow(context.Background(), `select c.name, a.status from meters m join prepaid_accounts a on a.id=m.account_id
			join customers c on c.id=a.customer_id where m.meter_no=$1`, fmt.Sprintf("O%s%d", run, i)).Scan(&name, &status); err != nil {
			t.Fatalf("meter %d: %v", i, err)
		}
		if name != fmt.Sprintf("租户 %s-%d", run, i) || status != "open" {
			t.Errorf("meter %d: account of %q %s", i, name, status)
		}
	}
	// Sent again, as a browser's form this time: the same batch, nothing opened twice.
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	fw, err := mw.CreateFormFile("file", "开户.xlsx")
	if err == nil {
		_, err = fw.Write([]byte(workbook(t, sheet)))
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	code, raw, _ = admin.DoHeaders(t, "POST", project+"/bulk/openings", form.String(), map[string]string{"Content-Type": mw.FormDataContentType()})
	if code != http.StatusOK || decodeJSON[batch](t, raw).ID != b.ID {
		t.Fatalf("openings again: status %d: %s", code, raw)
	}
	code, _, ctype := admin.DoRaw(t, "GET", project+"/bulk/openings/template.xlsx", nil)
	if code != http.StatusOK || ctype != xlsx {
		t.Fatalf("template: status %d %s", code, ctype)
	}
}

// Two uploads of the same 1,000-row sheet (issue 21's done-when), the
// second while the first runs: one batch, each row sold once — 8 sales of
// 1.00 to each of 125 meters.
func TestThousandRowSheetSentTwice(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 sales")
	}
	stack.CheckLedger(t)
	cashier := stack.Login(t, "cashier", "cashier")
	run := fmt.Sprint(time.Now().UnixNano())
	const meters, perMeter = 125, 8
	type before struct {
		cents   int64
		counter uint16
	}
	was := map[string]before{}
	sheet := [][]any{{"meter_no", "amount", "transaction_no"}}
	for i := range meters * perMeter {
		// Consecutive rows go to different meters, so the rows running at
		// once never queue on one meter.
		no := fmt.Sprintf("M%04d", i%meters+1)
		if _, ok := was[no]; !ok {
			c, n := stack.MeterRegisters(t, no)
			was[no] = before{c, n}
		}
		sheet = append(sheet, []any{no, "1.00", fmt.Sprintf("K-%s-%d", run, i)})
	}
	cashBefore := balance(t, "cash")
	body := workbook(t, sheet)
	code, raw := upload(t, cashier, "recharges", body)
	if code != http.StatusAccepted {
		t.Fatalf("upload: status %d: %s", code, raw)
	}
	id := decodeJSON[batch](t, raw).ID
	code, raw = upload(t, cashier, "recharges", body)
	if code != http.StatusOK || decodeJSON[batch](t, raw).ID != id {
		t.Fatalf("second upload: status %d: %s", code, raw)
	}
	b := waitCompleted(t, cashier, id, 8*time.Minute)
	if b.Counts["done"] != meters*perMeter {
		t.Fatalf("counts %v", b.Counts)
	}
	for no, w := range was {
		cents, counter := stack.MeterRegisters(t, no)
		if cents-w.cents != 100*perMeter || counter != w.counter+perMeter {
			t.Errorf("meter %s: remaining %d→%d, counter %d→%d; want +%d and +%d", no, w.cents, cents, w.counter, counter, 100*perMeter, perMeter)
		}
	}
	if d := balance(t, "cash").Sub(cashBefore); !d.Equal(money.MustParse("1000.00")) && !d.Equal(money.MustParse("-1000.00")) {
		t.Errorf("cash moved by %s; want 1000.00", d)
	}
}
