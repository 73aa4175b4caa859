package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/store/analytics"
	"github.com/voltflow/voltflow/store/report"
	workorderstore "github.com/voltflow/voltflow/store/workorder"
)

// Charging analytics (统计分析, issue 23 §2, C9/C11):
//   GET /api/v1/charging-analytics/{name}?from=YYYY-MM-DD&to=YYYY-MM-DD&stationId=&format=json|xlsx&limit=&cursor=
// name: stations (电站列表及汇总; JSON adds "total"), utilisation (groupBy
// station|connector|station-day|connector-day), trends (granularity day|month),
// power-by-hour, protection (主动防护分析 by charger brand and model),
// customers (公司客户查询), status-history (电站运营状况 by day) and
// failure-rate (the O&M station failure rate, /om/station-failure-rate).
// Every figure is scoped to the caller's projects and stations.

func (s *Server) analyticsRoutes(r chi.Router) {
	r.Get("/charging-analytics/{name}", s.chargingAnalytics)
}

func (s *Server) chargingAnalytics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rq, ok := reportParams(w, r)
	if !ok {
		return
	}
	op := operatorFrom(r.Context())
	f := analytics.Filter{Projects: nonNil(rq.projects), Scope: op.stationScope(), StationID: q.Get("stationId")}
	var err error
	f.Period, err = period(r, true)
	if !filterOK(w, err, f) {
		return
	}
	name := chi.URLParam(r, "name")
	switch name {
	case "stations":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.StationSummary) error) error {
			return analytics.Stations(ctx, s.cfg.DB, f, p, fn)
		}, func(ctx context.Context, out map[string]any) error {
			t, err := analytics.Total(ctx, s.cfg.DB, f)
			out["total"] = t
			return err
		})
	case "utilisation":
		g := analytics.Grouping(orDefault(q.Get("groupBy"), string(analytics.ByStation)))
		if !g.Valid() {
			writeBad(w, invalid("groupBy", errors.New("groupBy must be station, connector, station-day or connector-day")))
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.Utilisation) error) error {
			return analytics.UtilisationOf(ctx, s.cfg.DB, f, g, p, fn)
		}, nil)
	case "trends":
		g := analytics.Granularity(orDefault(q.Get("granularity"), string(analytics.Daily)))
		if g != analytics.Daily && g != analytics.Monthly {
			writeBad(w, invalid("granularity", errors.New("granularity must be day or month")))
			return
		}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.Trend) error) error {
			return analytics.Trends(ctx, s.cfg.DB, f, g, p, fn)
		}, nil)
	case "power-by-hour":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.PowerHour) error) error {
			return analytics.PowerByHour(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "protection":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.Protection) error) error {
			return analytics.ProtectionByModel(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "customers":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.Customer) error) error {
			return analytics.Customers(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "status-history":
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(analytics.StatusDay) error) error {
			return analytics.StatusHistory(ctx, s.cfg.DB, f, p, fn)
		}, nil)
	case "failure-rate":
		rf := workorderstore.RateFilter{Projects: f.Projects, Scope: f.Scope, StationID: f.StationID, Period: f.Period}
		err = serveReport(s, w, r, name, rq, func(ctx context.Context, p report.Page, fn func(workorderstore.StationFailureRate) error) error {
			return workorderstore.StationFailureRates(ctx, s.cfg.DB, rf, p, fn)
		}, nil)
	default:
		writeProblem(w, http.StatusNotFound, CodeNotFound, fmt.Sprintf("no charging analytics %q", name))
		return
	}
	if errors.Is(err, analytics.ErrTooLong) {
		err = invalid("to", err)
	}
	s.reportAnswered(w, r, err)
}
