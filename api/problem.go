package api

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem detail with Voltflow's stable code.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	Code   string `json:"code"`
	// Field names the offending input field, when there is one.
	Field string `json:"field,omitempty"`
}

// Stable problem codes. Clients match on these, never on titles.
const (
	CodeMalformed           = "malformed_request"
	CodeInvalidAmount       = "invalid_amount"
	CodeInvalidField        = "invalid_field"
	CodeUnauthenticated     = "unauthenticated"
	CodeBadCredentials      = "bad_credentials"
	CodeForbidden           = "forbidden"
	CodeNotFound            = "not_found"
	CodeIdempotencyReuse    = "idempotency_key_reused"
	CodeTaskDecided         = "task_already_decided"
	CodeNotRedispatchable   = "not_redispatchable"
	CodeWorkerUnavailable   = "worker_unavailable"
	CodeTemporalUnavailable = "temporal_unavailable"
	CodeInternal            = "internal_error"
	CodeMeterUnreachable    = "meter_unreachable"

	// Refunds (退电) and reversals (冲正).
	CodeRefundExceedsBalance = "refund_exceeds_balance"
	CodeNotReversible        = "not_reversible"
	CodeAlreadyReversed      = "already_reversed"

	// Remote meter commands (远程控制).
	CodeUnknownCommand = "unknown_command"

	// Charging cards (充电卡).
	CodeCardVoid = "card_void"

	// Tariffs of platform-side prepaid (主站费控).
	CodeInvalidTariff    = "invalid_tariff"
	CodeTariffExists     = "tariff_exists"
	CodeMeterNotPlatform = "meter_not_platform"
	// Vouchers (代金券), invoices (开票), account closing (销户).
	CodeNotIssuable     = "voucher_batch_not_issuable"
	CodeNotRedeemable   = "voucher_not_redeemable"
	CodeVoucherExceeded = "voucher_amount_exceeded"
	CodeNotVoidable     = "voucher_not_voidable"
	CodeVoidUnderWay    = "voucher_void_under_way"
	CodeAlreadyInvoiced = "already_invoiced"
	CodeNotInvoiceable  = "not_invoiceable"
	CodeAccountClosed   = "account_closed"
	CodeAccountBusy     = "account_busy"
)

var titles = map[string]string{
	CodeMalformed:           "Malformed request",
	CodeInvalidAmount:       "Invalid amount",
	CodeInvalidField:        "Invalid field",
	CodeUnauthenticated:     "Authentication required",
	CodeBadCredentials:      "Wrong username or password",
	CodeForbidden:           "Not allowed",
	CodeNotFound:            "Not found",
	CodeIdempotencyReuse:    "Idempotency key reused with a different request",
	CodeTaskDecided:         "Task already decided",
	CodeNotRedispatchable:   "Cannot be re-dispatched now",
	CodeWorkerUnavailable:   "No worker answered in time",
	CodeTemporalUnavailable: "Workflow service unavailable",
	CodeInternal:            "Internal error",
	CodeInvalidText:         "Text with a control character or invalid UTF-8",
	CodeMeterUnreachable:    "Meter did not answer",

	CodeRefundExceedsBalance: "Refund exceeds the refundable balance",
	CodeNotReversible:        "Recharge cannot be reversed",
	CodeAlreadyReversed:      "Recharge already reversed",

	CodeUnknownCommand: "Unknown meter command",

	CodeCardVoid: "Card is void",

	CodeInvalidTariff:         "Tariff cannot price anything",
	CodeTariffExists:          "Tariff code already used in the project",
	CodeMeterNotPlatform:      "Meter is not platform-side prepaid",
	CodeNotIssuable:           "Voucher batch cannot be issued now",
	CodeNotRedeemable:         "Voucher cannot be redeemed",
	CodeVoucherExceeded:       "Amount exceeds what the voucher or the sale allows",
	CodeNotVoidable:           "Voucher cannot be voided",
	CodeVoidUnderWay:          "A void of this voucher is under way",
	CodeAlreadyInvoiced:       "Transaction already invoiced",
	CodeNotInvoiceable:        "Transaction cannot be invoiced",
	CodeAccountClosed:         "Account closed",
	CodeAccountBusy:           "Account has a sale or refund under way",
	CodeWorkOrderClosed:       "Work order is closed",
	CodeWorkOrderAcknowledged: "Work order already acknowledged",
}

func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	writeProblemField(w, status, code, detail, "")
}

func writeProblemField(w http.ResponseWriter, status int, code, detail, field string) {
	title := titles[code]
	if title == "" { // codes defined beside their handlers carry the status text
		title = http.StatusText(status)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	// The detail may echo an input: escaped and cut, so a problem never
	// carries control characters or a 10,000-character value back.
	_ = json.NewEncoder(w).Encode(Problem{
		Type: "https://voltflow.dev/problems/" + code, Title: title, Status: status,
		Detail: clip(detail, maxDetail), Code: code, Field: clip(field, maxDetail),
	})
}

// writeKeyReused answers 409 for an idempotency key, sent in field, that an
// earlier request with another body used.
func writeKeyReused(w http.ResponseWriter, field, key, what string) {
	writeProblemField(w, http.StatusConflict, CodeIdempotencyReuse, field+" "+key+" was used for a different "+what, field)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
