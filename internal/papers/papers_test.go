package papers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// PDFText extracts a PDF's text with pdftotext (poppler-utils).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext (poppler-utils) not installed: run deploy/install-deps.sh")
	}
	p := filepath.Join(t.TempDir(), "p.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestReceiptChinese(t *testing.T) {
	var f Fonts
	var buf bytes.Buffer
	err := f.WriteReceipt(&buf, Receipt{Title: "售电小票 Sale receipt", Lines: []Line{
		{"表号 Meter", "M0005"}, {"金额 Amount", "123.45 元"}, {"用户 Tenant", "张三"}}})
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"售电小票", "表号", "M0005", "123.45", "张三"} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt text lacks %q:\n%s", want, text)
		}
	}
}

func TestFontMissing(t *testing.T) {
	f := Fonts{Path: filepath.Join(t.TempDir(), "none.ttf")}
	err := f.WriteReceipt(&bytes.Buffer{}, Receipt{})
	if err == nil || !strings.Contains(err.Error(), "fonts-droid-fallback") {
		t.Fatalf("err = %v, want the missing-font hint", err)
	}
}

func TestTable(t *testing.T) {
	var f Fonts
	var buf bytes.Buffer
	rows := make([][]string, 0, 60)
	for range 60 {
		rows = append(rows, []string{"M0001", "一号楼101", "12.50"})
	}
	if err := f.WriteTable(&buf, Table{Title: "电能与财务月报", Headers: []string{"表号 Meter", "单元 Unit", "用电量 Used kWh"}, Rows: rows}); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	if strings.Count(text, "一号楼101") != 60 || !strings.Contains(text, "电能与财务月报") {
		t.Fatalf("table text:\n%s", text)
	}
}
