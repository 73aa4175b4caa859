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

// Latin letters and digits are set in the PDF core font Helvetica: Droid
// Sans Fallback's Latin glyphs are nearly full width, so transaction numbers
// would run off the page. Each string is drawn as runs of one font.
const latinFont = "Helvetica"

type run struct {
	font string
	text string
}

func runs(s string) []run {
	var out []run
	for _, r := range s {
		font := fontName
		if r < 0x80 {
			font = latinFont
		}
		if n := len(out); n > 0 && out[n-1].font == font {
			out[n-1].text += string(r)
			continue
		}
		out = append(out, run{font: font, text: string(r)})
	}
	return out
}

// width is the width of s set at size.
func width(pdf *fpdf.Fpdf, s string, size float64) float64 {
	w := 0.0
	for _, r := range runs(s) {
		pdf.SetFont(r.font, "", size)
		w += pdf.GetStringWidth(r.text)
	}
	return w
}

// text sets s with its left end at x on the baseline y.
func text(pdf *fpdf.Fpdf, x, y float64, s string, size float64) {
	for _, r := range runs(s) {
		pdf.SetFont(r.font, "", size)
		pdf.Text(x, y, r.text)
		x += pdf.GetStringWidth(r.text)
	}
}

// cell sets s in a box of w × h at (x, y), 1 mm in from the left, with a
// frame when border.
func cell(pdf *fpdf.Fpdf, x, y, w, h float64, s string, size float64, border bool) {
	if border {
		pdf.Rect(x, y, w, h, "D")
	}
	text(pdf, x+1, y+h/2+size*0.35*25.4/72, s, size)
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
	pageW, _ := pdf.GetPageSize()
	left, top, right, _ := pdf.GetMargins()
	y := top
	cell(pdf, (pageW-width(pdf, rc.Title, 16))/2-1, y, 0, 10, rc.Title, 16, false)
	y += 14
	for _, l := range rc.Lines {
		cell(pdf, left, y, 62, 8, l.Label, 11, false)
		size := 11.0
		if room := pageW - right - left - 64; width(pdf, l.Value, size) > room {
			size *= room / width(pdf, l.Value, size) // a long value in smaller type, on one line
		}
		cell(pdf, left+62, y, 0, 8, l.Value, size, false)
		pdf.Line(left, y+8, pageW-right, y+8)
		y += 8
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

// WriteTable renders a table on landscape pages, the header (its Chinese
// and its English part on two lines) repeated on each page. Columns are as
// wide as their widest text; a table wider than the page is set in smaller
// type, so no cell runs into the next.
func (f *Fonts) WriteTable(w io.Writer, t Table) error {
	pdf, err := f.newDoc("L")
	if err != nil {
		return err
	}
	pageW, pageH := pdf.GetPageSize()
	left, top, right, bottom := pdf.GetMargins()
	n := len(t.Headers)
	heads := make([][2]string, n)
	for i, h := range t.Headers {
		zh, en, _ := strings.Cut(h, " ")
		heads[i] = [2]string{zh, en}
	}
	size := 8.0
	widths := make([]float64, n)
	for i, h := range heads {
		widths[i] = max(width(pdf, h[0], size), width(pdf, h[1], size))
	}
	for r, row := range t.Rows {
		for i := range min(len(row), n) {
			t.Rows[r][i] = clip(row[i], 40)
			widths[i] = max(widths[i], width(pdf, t.Rows[r][i], size))
		}
	}
	const pad = 2.5 // mm around the text of a cell
	total := 0.0
	for _, wd := range widths {
		total += wd
	}
	if scale := (pageW - left - right - float64(n)*pad) / max(total, 1); scale < 1 {
		size *= scale
		for i := range widths {
			widths[i] *= scale
		}
	}
	for i := range widths {
		widths[i] += pad
	}
	rowH := size*25.4/72 + 2
	y := top
	header := func() {
		x := left
		for i, h := range heads {
			cell(pdf, x, y, widths[i], rowH, h[0], size, true)
			cell(pdf, x, y+rowH, widths[i], rowH, h[1], size, true)
			x += widths[i]
		}
		y += 2 * rowH
	}
	pdf.SetAutoPageBreak(false, 0)
	pdf.AddPage()
	cell(pdf, (pageW-width(pdf, t.Title, 14))/2-1, y, 0, 9, t.Title, 14, false)
	y += 10
	for _, s := range t.Subtitle {
		cell(pdf, left, y, 0, 6, s, 9, false)
		y += 6
	}
	y += 2
	header()
	for _, row := range t.Rows {
		if y+rowH > pageH-bottom {
			pdf.AddPage()
			y = top
			header()
		}
		x := left
		for i := range min(len(row), n) {
			cell(pdf, x, y, widths[i], rowH, row[i], size, true)
			x += widths[i]
		}
		y += rowH
	}
	return finish(pdf, w)
}

// clip keeps a cell short.
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
