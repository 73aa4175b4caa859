package api

import (
	"fmt"
	"net/http"

	"github.com/voltflow/voltflow/store/report"
)

// exportPageSize is how many rows an export reads per keyset page.
const exportPageSize = 500

// exportKeyset answers one xlsx download of every row a keyset-paged list
// yields: next is asked for pages of exportPageSize after the last row of
// the page before (nil first) until a short page. Every row is in the
// sheet before the first byte goes out, so a failing query still answers
// a problem.
func exportKeyset[T report.Row](s *Server, w http.ResponseWriter, r *http.Request, name, filename string,
	next func(after *T, limit int) ([]T, error)) {
	var zero T
	sheet, err := report.NewSheet(name, zero.Headers())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	var after *T
	for {
		items, err := next(after, exportPageSize)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		for _, it := range items {
			if err := sheet.Add(it); err != nil {
				s.internal(w, r, err)
				return
			}
		}
		if len(items) < exportPageSize {
			break
		}
		after = &items[len(items)-1]
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, filename))
	_, _ = sheet.WriteTo(w)
}
