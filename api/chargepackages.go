package api

import (
	"errors"
	"net/http"

	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/identifier"
	"github.com/voltflow/voltflow/domain/money"
	chargeorderstore "github.com/voltflow/voltflow/store/chargeorder"
)

type packageRequest struct {
	CardNo       string          `json:"cardNo"`
	Month        string          `json:"month"`
	QuotaKWh     decimal.Decimal `json:"quotaKwh"`
	EquipmentIDs []string        `json:"equipmentIds"`
	// Fee is the package's price, booked from the card's wallet when the
	// package is bought (optional; 0.00 for a free package).
	Fee jsonRawAmount `json:"fee"`
}

// saveChargingPackage is POST /charging-packages: grants (or changes) the
// monthly terminal package (终端包月) of a card's customer; the card desk's
// roles may.
func (s *Server) saveChargingPackage(w http.ResponseWriter, r *http.Request) {
	var req packageRequest
	if !decode(w, r, &req) {
		return
	}
	if req.CardNo == "" {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "cardNo is required", "cardNo")
		return
	}
	if !checkFormat(w, "cardNo", req.CardNo, identifier.CardNo) {
		return
	}
	fee := money.Zero
	if len(req.Fee.raw) > 0 {
		var ok bool
		if fee, ok = amountField(w, req.Fee, "fee"); !ok {
			return
		}
	}
	p, err := chargeorderstore.SavePackage(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.SellEnergy),
		chargeorderstore.PackageRequest{CardNo: req.CardNo, Month: req.Month, EquipmentIDs: req.EquipmentIDs, QuotaKWh: req.QuotaKWh,
			Fee: fee})
	var fe chargeorderstore.PackageField
	switch {
	case errors.As(err, &fe):
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, fe.Error(), fe.Field)
		return
	case errors.Is(err, chargeorderstore.ErrNotFound):
		writeProblemField(w, http.StatusNotFound, CodeNotFound, "card "+req.CardNo+" not found", "cardNo")
		return
	case err != nil:
		s.internal(w, r, err)
		return
	}
	setAudit(r, p.ProjectID, "charging-package/"+p.ID, map[string]any{"cardNo": req.CardNo, "month": p.Month,
		"quotaKwh": p.QuotaKWh.String(), "fee": p.Fee.String()})
	writeJSON(w, http.StatusCreated, p)
}

// listChargingPackages is GET /charging-packages?cardNo=&month=.
func (s *Server) listChargingPackages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	items, err := chargeorderstore.ListPackages(r.Context(), s.cfg.DB, operatorFrom(r.Context()).projectsFor(access.ViewData),
		q.Get("cardNo"), q.Get("month"))
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": nonNil(items)})
}
