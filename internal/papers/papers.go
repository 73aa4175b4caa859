// Package papers renders Voltflow's printable papers as PDF: receipts of
// sales, refunds and reversals, and tables such as the monthly statement.
// Chinese text needs a CJK TrueType font embedded in the PDF; fpdf reads
// plain TrueType (glyf) fonts, not the OpenType/CFF collections (.ttc) of
// fonts-noto-cjk, so the font is Droid Sans Fallback from the Debian package
// fonts-droid-fallback (deploy/install-deps.sh installs it), read at run time.
package papers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// DefaultFontPath is where Debian's fonts-droid-fallback puts its font.
const DefaultFontPath = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// ErrFontMissing: the CJK font is not installed.
var ErrFontMissing = errors.New("CJK font for PDF papers missing: install the Debian package fonts-droid-fallback (deploy/install-deps.sh)")

// Fonts reads the CJK font once, on first use, and keeps it for every
// later paper (it is 4 MB; each PDF embeds only the glyphs it uses).
type Fonts struct {
	Path string // "" is DefaultFontPath
	once sync.Once
	ttf  []byte
	err  error
}

func (f *Fonts) load() ([]byte, error) {
	f.once.Do(func() {
		path := f.Path
		if path == "" {
			path = DefaultFontPath
		}
		f.ttf, f.err = os.ReadFile(path)
		if errors.Is(f.err, os.ErrNotExist) {
			f.err = fmt.Errorf("%s: %w", path, ErrFontMissing)
		} else if f.err == nil && !bytes.HasPrefix(f.ttf, []byte{0, 1, 0, 0}) && !bytes.HasPrefix(f.ttf, []byte("true")) {
			f.err = fmt.Errorf("%s is not a TrueType font (a .ttc or .otf cannot be embedded): %w", path, ErrFontMissing)
		}
	})
	return f.ttf, f.err
}

const fontName = "cjk"

func (f *Fonts) newDoc(orientation string) (*fpdf.Fpdf, error) {
	ttf, err := f.load()
	if err != nil {
		return nil, err
	}
	pdf := fpdf.New(orientation, "mm", "A4", "")
	pdf.AddUTF8FontFromBytes(fontName, "", ttf)
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("load CJK font: %w", err)
	}
	pdf.SetCreator("Voltflow", true)
	// A fixed date keeps the same paper byte-identical when printed again.
	pdf.SetCreationDate(time.Unix(0, 0).UTC())
	pdf.SetModificationDate(time.Unix(0, 0).UTC())
	pdf.SetAutoPageBreak(true, 12)
	return pdf, nil
}

// Line is one labelled value of a receipt.
type Line struct {
	Label string // e.g. "金额 Amount"
	Value string
}

// Receipt is one printable receipt (小票).
type Receipt struct {
	Title string // e.g. "售电小票 Sale receipt"
	Lines []Line
}

// WriteReceipt renders a receipt as a one-page PDF.
func (f *Fonts) WriteReceipt(w io.Writer, rc Receipt) error {
	pdf, err := f.newDoc("P")
	if err != nil {
		return err
	}
	pdf.AddPage()
	pdf.SetFont(fontName, "", 16)
	pdf.CellFormat(0, 10, rc.Title, "", 1, "C", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont(fontName, "", 11)
	for _, l := range rc.Lines {
		pdf.CellFormat(60, 8, l.Label, "B", 0, "L", false, 0, "")
		pdf.CellFormat(0, 8, l.Value, "B", 1, "L", false, 0, "")
	}
	return finish(pdf, w)
}

// Table is a titled table paper (the monthly statement): the same header
// and cells as its xlsx export.
type Table struct {
	Title    string
	Subtitle []string
	Headers  []string
	Rows     [][]string
}

// WriteTable renders a table on landscape pages, the header repeated on
// each page. Columns are as wide as their widest cell; a table wider than
// the page is set in a smaller type, so no cell runs into the next.
func (f *Fonts) WriteTable(w io.Writer, t Table) error {
	pdf, err := f.newDoc("L")
	if err != nil {
		return err
	}
	pageW, _ := pdf.GetPageSize()
	left, _, right, _ := pdf.GetMargins()
	size := 7.0
	pdf.SetFont(fontName, "", size)
	widths := make([]float64, len(t.Headers))
	for i, h := range t.Headers {
		for _, part := range strings.Fields(h) { // a header wraps at its spaces
			widths[i] = max(widths[i], pdf.GetStringWidth(part)+2)
		}
	}
	for r, row := range t.Rows {
		for i, c := range row {
			if i < len(widths) {
				t.Rows[r][i] = clip(c, 40)
				widths[i] = max(widths[i], pdf.GetStringWidth(t.Rows[r][i])+2)
			}
		}
	}
	total := 0.0
	for _, wd := range widths {
		total += wd
	}
	scale := (pageW - left - right) / max(total, 1)
	if scale < 1 {
		size *= scale
	}
	for i := range widths {
		widths[i] *= scale
	}
	lineH := size * 0.55
	header := func() {
		pdf.SetFont(fontName, "", size)
		y, x, lines := pdf.GetY(), left, 1
		for i, h := range t.Headers {
			lines = max(lines, len(pdf.SplitText(h, widths[i]-1)))
		}
		for i, h := range t.Headers {
			pdf.SetXY(x, y)
			pdf.MultiCell(widths[i], lineH, h, "", "C", false)
			pdf.Rect(x, y, widths[i], float64(lines)*lineH, "D")
			x += widths[i]
		}
		pdf.SetXY(left, y+float64(lines)*lineH)
	}
	pdf.SetHeaderFunc(func() {
		if pdf.PageNo() > 1 {
			header()
		}
	})
	pdf.AddPage()
	pdf.SetFont(fontName, "", 14)
	pdf.CellFormat(0, 9, t.Title, "", 1, "C", false, 0, "")
	pdf.SetFont(fontName, "", 9)
	for _, s := range t.Subtitle {
		pdf.CellFormat(0, 6, s, "", 1, "L", false, 0, "")
	}
	pdf.Ln(2)
	header()
	for _, row := range t.Rows {
		pdf.SetFont(fontName, "", size)
		for i, c := range row {
			if i < len(widths) {
				pdf.CellFormat(widths[i], lineH+1, c, "1", 0, "L", false, 0, "")
			}
		}
		pdf.Ln(-1)
	}
	return finish(pdf, w)
}

// clip keeps a cell on one line.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

func finish(pdf *fpdf.Fpdf, w io.Writer) error {
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("render PDF: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("write PDF: %w", err)
	}
	return nil
}
