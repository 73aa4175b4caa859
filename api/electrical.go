package api

import (
	"context"
	"net/http"

	"github.com/voltflow/voltflow/store/report"
)

// electricalReport is GET /api/v1/reports/electrical-parameters?meterNo=&from=&to=
// (电参量, issue 20 §8): every reading's U, I, P, Q, PF per phase, CT, PT
// and maximum demand with its time, of the meters whose profile has them;
// the JSON page adds each meter's largest maximum demand of the period.
// A nil return is a served report; a *badParam or other error is left to
// reportAnswered.
func (s *Server) electricalReport(w http.ResponseWriter, r *http.Request, rq reportQuery) error {
	f := report.ElectricalFilter{Projects: rq.projects, Scope: rq.scope, MeterNo: r.URL.Query().Get("meterNo")}
	var err error
	if f.Period, err = period(r, true); err != nil {
		return err
	}
	if field, verr := f.Validate(); verr != nil {
		return invalid(field, verr)
	}
	return serveReport(s, w, r, "electrical-parameters", rq,
		func(ctx context.Context, p report.Page, fn func(report.ElectricalRow) error) error {
			return report.Electrical(ctx, s.cfg.DB, f, p, fn)
		}, func(ctx context.Context, out map[string]any) error {
			md, err := report.MaxDemands(ctx, s.cfg.DB, f)
			out["maxDemand"] = md
			return err
		})
}
