package report

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/domain/money"
)

// Row is a report row that can be a spreadsheet row.
type Row interface {
	Cursor() string
	// Headers names the columns of Cells; it reads no field of the row.
	Headers() []string
	Cells() []any
}

// Sheet is one report as an xlsx workbook, written row by row through
// excelize's StreamWriter: rows are encoded as they come and the stream
// writer spills them to a temporary file past its 16 MiB buffer, so a
// 100,000-row export never holds its rows in memory (seed 003: 导出为 EXCEL).
// Close it to remove the temporary files.
type Sheet struct {
	f    *excelize.File
	sw   *excelize.StreamWriter
	rows int
}

// NewSheet starts a workbook with one sheet named name and a header row.
func NewSheet(name string, headers []string) (*Sheet, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", name); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("sheet name %q: %w", name, err)
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("stream writer: %w", err)
	}
	s := &Sheet{f: f, sw: sw}
	head := make([]any, len(headers))
	for i, h := range headers {
		head[i] = h
	}
	if err := s.add(head); err != nil {
		_ = f.Close()
		return nil, err
	}
	return s, nil
}

// Rows is how many data rows were added (the header not counted).
func (s *Sheet) Rows() int { return s.rows - 1 }

// Add appends one row.
func (s *Sheet) Add(r Row) error { return s.add(r.Cells()) }

// Into adapts the sheet to a report's row callback.
func Into[T Row](s *Sheet) func(T) error {
	return func(r T) error { return s.add(r.Cells()) }
}

// MaxRows is the most data rows a sheet takes: Excel's 1,048,576 rows
// less the header.
const MaxRows = excelize.TotalRows - 1

// ErrTooManyRows is returned when a report outgrows one sheet.
var ErrTooManyRows = errors.New("report: more rows than an Excel sheet holds")

func (s *Sheet) add(cells []any) error {
	if s.rows > MaxRows {
		return ErrTooManyRows
	}
	cell, err := excelize.CoordinatesToCellName(1, s.rows+1)
	if err != nil {
		return fmt.Errorf("row %d: %w", s.rows+1, err)
	}
	if err := s.sw.SetRow(cell, cells); err != nil {
		return fmt.Errorf("row %d: %w", s.rows+1, err)
	}
	s.rows++
	return nil
}

// WriteTo finishes the sheet and writes the workbook (a zip) to w as it is
// compressed from the stream writer's temporary file.
//
// excelize's own File.WriteTo assembles the whole zip in a bytes.Buffer
// first; the zip writer installed here writes to w instead, leaving that
// buffer empty. (The buffer is only read back to patch zip64 headers, which
// entries under 4 GiB never need; a sheet tops out at 1,048,576 rows.)
func (s *Sheet) WriteTo(w io.Writer) (int64, error) {
	if err := s.sw.Flush(); err != nil {
		return 0, fmt.Errorf("flush sheet: %w", err)
	}
	cw := &countingWriter{w: w}
	s.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(cw) })
	if _, err := s.f.WriteTo(io.Discard); err != nil {
		return cw.n, fmt.Errorf("write workbook: %w", err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Close removes the workbook's temporary files.
func (s *Sheet) Close() error { return s.f.Close() }

// china is the wall clock of the spreadsheets' times (no DST in China).
var china = time.FixedZone("CST", 8*60*60)

func cellTime(t *time.Time) any {
	if t == nil {
		return ""
	}
	return t.In(china).Format("2006-01-02 15:04:05")
}

// cellNumber makes a decimal a numeric cell. Excel keeps every number as a
// binary double anyway; the shortest formatting excelize uses writes the
// decimal's own digits into the file, so "12.34" stays 12.34.
func cellNumber(s *string) any {
	if s == nil {
		return ""
	}
	d, err := decimal.NewFromString(*s)
	if err != nil {
		return *s
	}
	return d.InexactFloat64()
}

func cellMoney(a *money.Amount) any {
	if a == nil {
		return ""
	}
	return a.Decimal().InexactFloat64()
}

func cellInt(v *int) any {
	if v == nil {
		return ""
	}
	return *v
}

// Headers of the status board.
func (StatusRow) Headers() []string {
	return []string{"表号 Meter", "网关 Gateway", "单元 Unit", "区域 Site", "用户 Customer", "状态 Status",
		"颜色 Colour", "剩余金额 Remaining", "总电能 Energy kWh", "继电器 Relay", "模式 Mode", "状态字 Flags",
		"报警 Alarms", "抄读时间 Read at"}
}

// Cells of a status board row.
func (r StatusRow) Cells() []any {
	return []any{r.MeterNo, r.Gateway, r.Unit, r.Site, r.Customer, string(r.Status), r.Colour, cellMoney(r.Remaining),
		cellNumber(r.EnergyKwh), cellInt(r.Relay), cellInt(r.Mode), cellInt(r.Flags), r.OpenAlarms, cellTime(r.ReadAt)}
}

// Headers of the consumption report.
func (ConsumptionRow) Headers() []string {
	return []string{"时段 Period", "对象 Key", "用电量 Energy kWh", "区间数 Intervals"}
}

// Cells of a consumption row.
func (r ConsumptionRow) Cells() []any {
	return []any{cellTime(&r.Bucket), r.Key, cellNumber(&r.EnergyKwh), r.Intervals}
}

// Headers of the statement.
func (StatementRow) Headers() []string {
	return []string{"表号 Meter", "单元 Unit", "用户 Customer", "期初电能 Opening kWh", "期末电能 Closing kWh",
		"用电量 Used kWh", "期初剩余 Opening remaining", "期末剩余 Closing remaining", "售电 Recharged",
		"退电 Refunded", "冲正 Reversed", "消费 Spent", "期初时间 Opened at", "期末时间 Closed at",
		"公摊 Common area", "公摊规则 Common-area rule"}
}

// Cells of a statement row.
func (r StatementRow) Cells() []any {
	return []any{r.MeterNo, r.Unit, r.Customer, cellNumber(r.OpeningEnergyKwh), cellNumber(r.ClosingEnergyKwh),
		cellNumber(r.UsedEnergyKwh), cellMoney(r.OpeningRemaining), cellMoney(r.ClosingRemaining),
		cellMoney(&r.Recharged), cellMoney(&r.Refunded), cellMoney(&r.Reversed), cellMoney(r.Spent),
		cellTime(r.OpenedAt), cellTime(r.ClosedAt), cellMoney(&r.CommonArea), r.CommonAreaRule}
}

// Headers of the lost-contact report.
func (LostContactRow) Headers() []string {
	return []string{"编号 ID", "类型 Kind", "设备 Device", "网关 Gateway", "说明 Detail", "失联时间 Raised at", "恢复时间 Cleared at"}
}

// Cells of a lost-contact row.
func (r LostContactRow) Cells() []any {
	return []any{strconv.FormatInt(r.ID, 10), r.Kind, r.SubjectNo, r.Gateway, r.Detail, cellTime(&r.RaisedAt), cellTime(r.ClearedAt)}
}

// Headers of the command log.
func (CommandRow) Headers() []string {
	return []string{"编号 ID", "表号 Meter", "命令 Command", "结果 Status", "次数 Attempts", "失败原因 Failure",
		"批次 Batch", "下发 Request", "回读 Response", "操作员 Operator", "时间 Created at", "完成 Completed at"}
}

// Cells of a command log row.
func (r CommandRow) Cells() []any {
	str := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	return []any{r.ID, r.MeterNo, r.Command, r.Status, r.Attempts, r.Failure, str(r.BatchID), str(r.Request),
		str(r.Response), r.CreatedBy, cellTime(&r.CreatedAt), cellTime(r.CompletedAt)}
}

// MaxPDFRows is the most rows a printable (PDF) report takes: past it,
// export xlsx instead.
const MaxPDFRows = 20_000
