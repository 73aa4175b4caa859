package report_test

import (
	"archive/zip"
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/store/report"
)

const exportMeters = 100_000

// TestExportStatusBoard100k streams the status board of 100,000 meters from
// a pgx cursor through the Excel stream writer into a file, reads it back,
// and checks the export's heap stays well below the sheet's size: rows are
// never collected, and excelize spills them to a temporary file past its
// 16 MiB buffer.
func TestExportStatusBoard100k(t *testing.T) {
	if testing.Short() {
		t.Skip("100k-row export")
	}
	db := pg.NewDB(t)
	ctx := context.Background()
	project, gw, customer := uuid.NewString(), uuid.NewString(), uuid.NewString()
	org := uuid.NewString()
	exec(t, db, `insert into organisations(id, code, name) values($1,'big','big')`, org)
	exec(t, db, `insert into projects(id, organisation_id, code, name) values($1,$2,'big','big')`, project, org)
	exec(t, db, `insert into gateways(id, project_id, code, protocol, address) values($1,$2,'GW-BIG','modbus-tcp','127.0.0.1:1')`, gw, project)
	exec(t, db, `insert into customers(id, project_id, name) values($1,$2,'Tenant')`, customer, project)
	start := time.Now()
	exec(t, db, `insert into prepaid_accounts(id, project_id, customer_id, account_no)
		select gen_random_uuid(), $1, $2, 'A' || i from generate_series(1, $3::int) i`, project, customer, exportMeters)
	exec(t, db, `insert into meters(id, project_id, meter_no, gateway_id, unit_address, profile, price, account_id)
		select gen_random_uuid(), $1, 'X' || lpad(substr(a.account_no, 2), 7, '0'), $2, substr(a.account_no, 2)::int, 'ref-prepaid-v1', 1.2, a.id
		from prepaid_accounts a where a.project_id = $1`, project, gw)
	// Every seventh meter is cut off; the remaining money tells rows apart.
	exec(t, db, `insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh, relay, mode,
		status_flags, read_at) select id, unit_address / 100.0, 1, 100, unit_address + 0.25, (unit_address % 7 = 0)::int,
		0, 0, '2026-04-01 08:00+08' from meters where project_id = $1`, project)
	exec(t, db, `analyze`)
	t.Logf("fixture: %d meters in %v", exportMeters, time.Since(start).Round(time.Millisecond))

	path := filepath.Join(t.TempDir(), "status-board.xlsx")
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = out.Close() }() // WriteTo's error is checked and the file read back below

	// Sample the heap while the export runs.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var (
		mu       sync.Mutex
		peakHeap uint64
		stop     = make(chan struct{})
		sampled  = make(chan struct{})
	)
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				runtime.ReadMemStats(&ms)
				mu.Lock()
				peakHeap = max(peakHeap, ms.HeapInuse)
				mu.Unlock()
			}
		}
	}()

	start = time.Now()
	sheet, err := report.NewSheet("status-board", report.StatusRow{}.Headers())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sheet.Close() }()
	// Live heap (after a collection) every 10,000 rows and every 256 writes
	// of the zip: what the export retains, as opposed to garbage awaiting
	// collection that HeapInuse also counts.
	var peakLive uint64
	live := func() {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peakLive = max(peakLive, ms.HeapAlloc)
	}
	add := report.Into[report.StatusRow](sheet)
	n := 0
	err = report.StatusBoard(ctx, db, report.StatusFilter{Projects: []string{project}}, report.Page{},
		func(r report.StatusRow) error {
			if n++; n%10_000 == 0 {
				live()
			}
			return add(r)
		})
	if err != nil {
		t.Fatal(err)
	}
	written, err := sheet.WriteTo(&sampling{w: out, every: 256, sample: live})
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	close(stop)
	<-sampled
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if sheet.Rows() != exportMeters {
		t.Fatalf("sheet has %d rows, want %d", sheet.Rows(), exportMeters)
	}

	// The sheet's uncompressed XML, for scale.
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	var sheetXML uint64
	for _, f := range zr.File {
		if f.Name == "xl/worksheets/sheet1.xml" {
			sheetXML = f.UncompressedSize64
		}
	}
	_ = zr.Close() // read only
	st, _ := os.Stat(path)
	if st.Size() != written {
		t.Errorf("WriteTo reported %d bytes, file has %d", written, st.Size())
	}
	inuseDelta := int64(peakHeap) - int64(before.HeapInuse)
	liveDelta := int64(peakLive) - int64(before.HeapAlloc)
	allocPerRow := float64(after.TotalAlloc-before.TotalAlloc) / exportMeters
	t.Logf("export: rows=%d seconds=%.2f (with forced GCs) xlsx_bytes=%d sheet_xml_bytes=%d peak_live_heap_delta_bytes=%d "+
		"peak_heapinuse_delta_bytes=%d alloc_bytes_per_row=%.0f",
		exportMeters, elapsed.Seconds(), written, sheetXML, liveDelta, inuseDelta, allocPerRow)
	if sheetXML < 2*(16<<20) {
		t.Fatalf("sheet XML is only %d bytes: too small to show the bound", sheetXML)
	}
	// The bound: excelize's 16 MiB chunk (its bytes.Buffer may grow to
	// 32 MiB) plus the zip's deflate state, independent of the row count.
	if liveDelta > int64(sheetXML)/2 {
		t.Errorf("live heap grew %d bytes for a %d-byte sheet: rows are being held", liveDelta, sheetXML)
	}

	// Read it back.
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }() // read only
	rows, err := f.Rows("status-board")
	if err != nil {
		t.Fatal(err)
	}
	n = 0
	for rows.Next() {
		n++
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		switch n {
		case 1:
			if cols[0] != "表号 Meter" || cols[5] != "状态 Status" {
				t.Errorf("header %v", cols)
			}
		case 2: // X000001: 0.01 remaining, 1.25 kWh, normal
			if cols[0] != "X0000001" || cols[5] != "normal" || cols[6] != "white" || cols[7] != "0.01" || cols[8] != "1.25" ||
				cols[13] != "2026-04-01 08:00:00" {
				t.Errorf("first row %v", cols)
			}
		case 8: // X000007: cut off
			if cols[0] != "X0000007" || cols[5] != "cut_off" || cols[6] != "black" || cols[9] != "1" {
				t.Errorf("row 8 %v", cols)
			}
		case exportMeters + 1:
			if cols[0] != "X0100000" || cols[7] != "1000" {
				t.Errorf("last row %v", cols)
			}
		}
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	if n != exportMeters+1 {
		t.Fatalf("read back %d rows, want %d + header", n, exportMeters)
	}
}

// sampling calls sample every so many writes.
type sampling struct {
	w      *os.File
	every  int
	n      int
	sample func()
}

func (s *sampling) Write(p []byte) (int, error) {
	if s.n++; s.n%s.every == 0 {
		s.sample()
	}
	return s.w.Write(p)
}
