package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"

	"github.com/voltflow/voltflow/domain/access"
	"github.com/voltflow/voltflow/domain/card"
	"github.com/voltflow/voltflow/domain/money"
	rechargedom "github.com/voltflow/voltflow/domain/recharge"
	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/charger"
	"github.com/voltflow/voltflow/store/report"
	walletstore "github.com/voltflow/voltflow/store/wallet"
	"github.com/voltflow/voltflow/workflows/names"
	walletwf "github.com/voltflow/voltflow/workflows/wallet"
)

// walletRoutes are the card wallets (F2): recharge and refund through the
// apply → review → book chain, and the wallet's statement.
func (s *Server) walletRoutes(r chi.Router) {
	r.With(s.audit("card.wallet.recharge")).Post("/cards/{cardNo}/wallet-recharges", s.createWalletRequest(card.WalletRecharge))
	r.With(s.audit("card.wallet.refund")).Post("/cards/{cardNo}/wallet-refunds", s.createWalletRequest(card.WalletRefund))
	r.Get("/wallet-recharges/{id}", s.getWalletRequest(card.WalletRecharge))
	r.Get("/wallet-refunds/{id}", s.getWalletRequest(card.WalletRefund))
	r.Get("/cards/{cardNo}/wallet-statement", s.walletStatement)
}

type walletRequest struct {
	Amount        jsonRawAmount `json:"amount"`
	Method        card.Method   `json:"method"`
	TransactionNo string        `json:"transactionNo"`
}

// createWalletRequest applies for a recharge (cash or transfer) or a refund
// of a card's wallet and starts its workflow. The project's autoApproveUpTo
// decides whether a recharge needs an approver; a refund always does.
func (s *Server) createWalletRequest(kind card.WalletKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		op := operatorFrom(r.Context())
		var req walletRequest
		if !decode(w, r, &req) {
			return
		}
		amount, ok := req.Amount.parse(w)
		if !ok {
			return
		}
		cardNo := chi.URLParam(r, "cardNo")
		c, err := charger.GetCard(r.Context(), s.cfg.DB, op.Grants.Projects(), cardNo)
		if !s.found(w, r, err, charger.ErrCardNotFound, "card not found") {
			return
		}
		setAudit(r, c.ProjectID, cardNo, map[string]any{"kind": string(kind), "amount": amount.String(),
			"method": string(req.Method), "transactionNo": req.TransactionNo})
		if !op.Grants.Can(c.ProjectID, access.SellEnergy) {
			writeProblem(w, http.StatusForbidden, CodeForbidden, "a card wallet "+string(kind)+" needs the cashier role")
			return
		}
		var policy rechargedom.Policy
		var projectCode string
		if err := s.cfg.DB.QueryRow(r.Context(), `select code, auto_approve_up_to from projects where id=$1`, c.ProjectID).
			Scan(&projectCode, &policy.AutoApproveUpTo); err != nil {
			s.internal(w, r, err)
			return
		}
		policy.MaxAmount = rechargedom.DefaultPolicy().MaxAmount
		if !s.walletRequestValid(w, kind, policy, c, req, amount) {
			return
		}
		id := uuid.NewString()
		needs := kind == card.WalletRefund || policy.NeedsApproval(amount)
		status := rechargedom.Approved
		if needs {
			status = rechargedom.PendingApproval
		}
		want := walletstore.Request{ID: id, ProjectID: c.ProjectID, Kind: kind, CardNo: c.CardNo, AccountNo: c.AccountNo,
			Method: req.Method, TransactionNo: req.TransactionNo, Amount: amount, Status: status, NeedsApproval: needs,
			WorkflowID: walletwf.WorkflowID(kind, id), CreatedBy: op.ID}
		got, created, err := walletstore.Apply(r.Context(), s.cfg.DB, want)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		if !created && !got.Same(want) {
			writeKeyReused(w, "transactionNo", req.TransactionNo, "wallet "+string(kind))
			return
		}
		// Starting again on a replay is harmless (the ID is taken) and heals
		// a request whose first start never reached Temporal.
		if err := names.StartOnce(r.Context(), s.cfg.Temporal, got.WorkflowID, walletwf.KindOf(kind),
			names.Attributes(projectCode, walletwf.KindOf(kind), got.CardNo, string(got.Status)),
			walletwf.Input{RequestID: got.ID, ProjectID: got.ProjectID, ProjectCode: projectCode, Kind: kind, CardNo: got.CardNo,
				AccountNo: got.AccountNo, Method: got.Method, Amount: got.Amount, NeedsApproval: got.NeedsApproval}); err != nil {
			s.log.Error("start wallet workflow", "request", got.ID, "error", err)
			writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the "+string(kind)+" is recorded; send the same request again to start it")
			return
		}
		writeJSON(w, http.StatusAccepted, rechargeCreated{ID: got.ID, Status: got.Status, WorkflowID: got.WorkflowID})
	}
}

// walletRequestValid checks a wallet request against the policy and the
// card; it writes the problem and reports false when refused.
func (s *Server) walletRequestValid(w http.ResponseWriter, kind card.WalletKind, policy rechargedom.Policy, c charger.Card,
	req walletRequest, amount money.Amount) bool {
	// The recharge rules of amount and transaction number; the card stands
	// in for the meter.
	if err := policy.Validate(rechargedom.Request{MeterNo: c.CardNo, Amount: amount, TransactionNo: req.TransactionNo}); err != nil {
		writeValidationProblem(w, err)
		return false
	}
	switch {
	case kind == card.WalletRecharge && req.Method != card.Cash && req.Method != card.Transfer:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, card.ErrMethod.Error(), "method")
	case kind == card.WalletRefund && req.Method != "":
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "a refund is paid out in cash: no method", "method")
	case c.AccountNo == "":
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "card "+c.CardNo+" has no prepaid account", "cardNo")
	case kind == card.WalletRecharge && c.Status == card.Void:
		writeProblem(w, http.StatusConflict, CodeCardVoid, "card "+c.CardNo+" is void")
	case kind == card.WalletRefund && amount.GreaterThan(c.Balance):
		// Checked again at booking: the holder may charge in between.
		writeProblemField(w, http.StatusUnprocessableEntity, CodeRefundExceedsBalance,
			fmt.Sprintf("the wallet of card %s holds %s", c.CardNo, c.Balance), "amount")
	default:
		return true
	}
	return false
}

func (s *Server) getWalletRequest(kind card.WalletKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		getByID(s, w, r, func(ctx context.Context, db *store.DB, projects []string, id string) (walletstore.Request, error) {
			return walletstore.Get(ctx, db, projects, kind, id)
		}, walletstore.ErrNotFound, "wallet "+string(kind)+" not found")
	}
}

type walletStatement struct {
	CardNo    string                 `json:"cardNo"`
	AccountNo string                 `json:"accountNo"`
	Balance   money.Amount           `json:"balance"`
	Items     []walletstore.Movement `json:"items"`
}

// walletStatement lists the movements of a card's wallet (recharges,
// refunds, charging debits, the opening balance) with the running balance;
// format=xlsx as an Excel download.
func (s *Server) walletStatement(w http.ResponseWriter, r *http.Request) {
	op := operatorFrom(r.Context())
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" && format != "xlsx" {
		writeBad(w, invalid("format", errors.New("format must be json or xlsx")))
		return
	}
	c, err := charger.GetCard(r.Context(), s.cfg.DB, op.projectsFor(access.ViewData), chi.URLParam(r, "cardNo"))
	if !s.found(w, r, err, charger.ErrCardNotFound, "card not found") {
		return
	}
	items := []walletstore.Movement{}
	if c.AccountNo != "" {
		if items, err = walletstore.Statement(r.Context(), s.cfg.DB, c.ProjectID, c.AccountNo); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	if format != "xlsx" {
		writeJSON(w, http.StatusOK, walletStatement{CardNo: c.CardNo, AccountNo: c.AccountNo, Balance: c.Balance, Items: items})
		return
	}
	sheet, err := report.NewSheet("wallet", walletstore.Movement{}.Headers())
	if err != nil {
		s.internal(w, r, err)
		return
	}
	defer func() { _ = sheet.Close() }()
	for _, m := range items {
		if err := report.Into[walletstore.Movement](sheet)(m); err != nil {
			s.internal(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="wallet-%s-%s.xlsx"`, c.CardNo,
		time.Now().In(chinaTime).Format("20060102-150405")))
	w.WriteHeader(http.StatusOK)
	if _, err := sheet.WriteTo(w); err != nil {
		s.log.Error("wallet statement export failed", "card", c.CardNo, "error", err)
		panic(http.ErrAbortHandler)
	}
}
