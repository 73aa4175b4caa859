package bulk_test

import (
	"testing"

	bulkdom "github.com/voltflow/voltflow/domain/bulk"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name  string
		kind  bulkdom.Kind
		sheet [][]string
		rows  int
		want  []bulkdom.Problem
	}{
		{"recharges in Chinese", bulkdom.Recharges, [][]string{{"表号", "充值金额", "流水号"}, {"M1", "100", "T1"}, {"", "", ""}, {"M2", "9.5", "T2"}}, 2, nil},
		{"bad cells", bulkdom.Recharges, [][]string{{"meter_no", "amount", "transaction_no"}, {"M1", "-1", "T1"}, {"M 2", "1.001", "T1"}},
			2, []bulkdom.Problem{{Line: 2, Column: "amount", Detail: "amount must be greater than zero"},
				{Line: 3, Column: "meter_no", Detail: "at most 32 characters, without spaces, control characters or / ? # %"},
				{Line: 3, Column: "transaction_no", Detail: "transaction number T1 is also on row 2"},
				{Line: 3, Column: "amount", Detail: "a decimal with at most 2 places, e.g. 100.00"}}},
		{"missing column", bulkdom.Recharges, [][]string{{"meter_no", "amount", "note"}}, 0,
			[]bulkdom.Problem{{Line: 1, Column: "note", Detail: "unknown column"}, {Line: 1, Column: "transaction_no", Detail: "required column missing"}}},
		{"openings", bulkdom.Openings, [][]string{{"表号", "户名", "电话"}, {"M1", "张三", "13800000000"}, {"M1", "", "abc"}}, 2,
			[]bulkdom.Problem{{Line: 3, Column: "customer_name", Detail: "required"},
				{Line: 3, Column: "phone", Detail: "a phone number: digits, optionally a leading + and dashes"},
				{Line: 3, Column: "meter_no", Detail: "meter M1 is also on row 2: one account per meter"}}},
		{"no rows", bulkdom.Openings, [][]string{{"表号", "户名"}}, 0, []bulkdom.Problem{{Line: 2, Detail: "the sheet has no rows"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rows, problems := bulkdom.Read(tc.kind, tc.sheet)
			if len(rows) != tc.rows {
				t.Errorf("%d rows; want %d", len(rows), tc.rows)
			}
			if len(problems) != len(tc.want) {
				t.Fatalf("problems %v; want %v", problems, tc.want)
			}
			for i := range problems {
				if problems[i] != tc.want[i] {
					t.Errorf("problem %d: %v; want %v", i, problems[i], tc.want[i])
				}
			}
		})
	}
}

// The hash is of the rows, not of the file: the same rows are the same batch.
func TestHash(t *testing.T) {
	a, _ := bulkdom.Read(bulkdom.Recharges, [][]string{{"表号", "充值金额", "流水号"}, {"M1", "100", "T1"}})
	b, _ := bulkdom.Read(bulkdom.Recharges, [][]string{{"meter_no", "transaction_no", "amount"}, {"M1", "T1", "100.00"}})
	c, _ := bulkdom.Read(bulkdom.Recharges, [][]string{{"meter_no", "transaction_no", "amount"}, {"M1", "T1", "100.01"}})
	if bulkdom.Hash(bulkdom.Recharges, a) != bulkdom.Hash(bulkdom.Recharges, b) {
		t.Error("the same rows hash differently")
	}
	if bulkdom.Hash(bulkdom.Recharges, a) == bulkdom.Hash(bulkdom.Recharges, c) || bulkdom.Hash(bulkdom.Recharges, a) == bulkdom.Hash(bulkdom.Openings, a) {
		t.Error("other rows or kind hash the same")
	}
}
