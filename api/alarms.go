package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/voltflow/voltflow/domain/access"
	alarmstore "github.com/voltflow/voltflow/store/alarm"
	"github.com/voltflow/voltflow/store/report"
)

// listAlarms serves GET /api/v1/alarms?status=&kind=&meterNo=&limit=&cursor=
// (alarm records, newest first, with stage history and SMS), and with
// format=xlsx every selected alarm as an Excel download.
func (s *Server) listAlarms(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	q := r.URL.Query()
	f := alarmstore.Filter{Projects: nonNil(op.projectsFor(access.ViewData)), Scope: op.scope(), Status: q.Get("status"), Kind: q.Get("kind"),
		MeterNo: q.Get("meterNo")}
	if f.Status != "" && !slices.Contains(alarmstore.Statuses(), f.Status) {
		writeBad(w, invalid("status", fmt.Errorf("status must be one of %v", alarmstore.Statuses())))
		return
	}
	switch q.Get("format") {
	case "", "json":
	case "xlsx":
		s.exportAlarms(w, r, f)
		return
	default:
		writeBad(w, invalid("format", errors.New("format must be json or xlsx")))
		return
	}
	servePage(s, w, r, func(p page) ([]alarmstore.Record, error) {
		f.Limit, f.Before, f.BeforeID = p.limit, p.before, p.beforeID
		return alarmstore.List(r.Context(), s.cfg.DB, f)
	}, func(last alarmstore.Record) (time.Time, string) { return last.OpenedAt, last.ID })
}

func (s *Server) exportAlarms(w http.ResponseWriter, r *http.Request, f alarmstore.Filter) {
	sheet, err := report.NewSheet("alarms", alarmstore.Record{}.Headers())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	if err := alarmstore.Each(r.Context(), s.cfg.DB, f, report.Into[alarmstore.Record](sheet)); err != nil {
		if errors.Is(err, report.ErrTooManyRows) {
			writeBad(w, invalid("format", fmt.Errorf("more than %d rows: narrow the filter", report.MaxRows)))
			return
		}
		s.internal(w, r, err)
		return
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition",
		fmt.Sprintf(`attachment; filename="alarms-%s.xlsx"`, time.Now().In(chinaTime).Format("20060102-150405")))
	w.WriteHeader(http.StatusOK)
	if _, err := sheet.WriteTo(w); err != nil {
		s.log.Error("alarm export failed", "error", err)
		panic(http.ErrAbortHandler)
	}
}
