package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"

	"github.com/voltflow/voltflow/domain/access"
	bulkdom "github.com/voltflow/voltflow/domain/bulk"
	bulkstore "github.com/voltflow/voltflow/store/bulk"
	bulkwf "github.com/voltflow/voltflow/workflows/bulk"
	"github.com/voltflow/voltflow/workflows/names"
)

// maxBulkBytes bounds an uploaded bulk sheet: 10,000 rows are far below.
const maxBulkBytes = 16 << 20

// bulkRoutes are the bulk operations (issue 21 §2, M11): a sheet of account
// openings (admin) or of recharges (cashier), checked whole, then run as the
// workflow bulk/<id>.
func (s *Server) bulkRoutes(r chi.Router) {
	r.With(s.audit("bulk.openings")).Post("/projects/{project}/bulk/openings", s.createBulk(bulkdom.Openings))
	r.With(s.audit("bulk.recharges")).Post("/projects/{project}/bulk/recharges", s.createBulk(bulkdom.Recharges))
	r.With(s.audit("bulk.template")).Get("/projects/{project}/bulk/openings/template.xlsx", s.bulkTemplate(bulkdom.Openings))
	r.With(s.audit("bulk.template")).Get("/projects/{project}/bulk/recharges/template.xlsx", s.bulkTemplate(bulkdom.Recharges))
	r.Get("/projects/{project}/bulk/{id}", s.getBulk)
	r.With(s.audit("bulk.result")).Get("/projects/{project}/bulk/{id}/result.xlsx", s.bulkResult)
}

// bulkProject is the {project} of a bulk upload: openings need the admin
// role, recharges the cashier's right to sell.
func (s *Server) bulkProject(w http.ResponseWriter, r *http.Request, kind bulkdom.Kind) (string, bool) {
	if kind == bulkdom.Openings {
		return s.projectWhere(w, r, chi.URLParam(r, "project"), "the admin role", func(op *Operator, id string) bool {
			return op.administers(id)
		})
	}
	return s.projectWhere(w, r, chi.URLParam(r, "project"), "the cashier role", func(op *Operator, id string) bool {
		return op.Grants.Can(id, access.SellEnergy)
	})
}

// createBulk checks an uploaded sheet and starts its batch. The same rows
// uploaded again (the same file, or the sheet saved again) are the same
// batch, found by the content hash of the checked rows: 200 with it, and
// nothing runs twice. Recharge rows are moreover idempotent by transaction
// number, so a sheet edited and sent as a new batch sells an unchanged row
// once.
func (s *Server) createBulk(kind bulkdom.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pid, ok := s.bulkProject(w, r, kind)
		if !ok {
			return
		}
		setAudit(r, pid, "bulk "+string(kind), nil)
		sheet, err := readBulkSheet(w, r)
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			writeProblem(w, http.StatusRequestEntityTooLarge, CodeMalformed, fmt.Sprintf("the sheet is larger than %d MB: split it", maxBulkBytes>>20))
			return
		case errors.Is(err, errMediaType):
			writeProblem(w, http.StatusUnsupportedMediaType, CodeMalformed, "send "+xlsxType+" or multipart/form-data with the workbook as a file")
			return
		case err != nil:
			writeProblem(w, http.StatusBadRequest, CodeMalformed, "cannot read the sheet: "+err.Error())
			return
		}
		rows, problems := bulkdom.Read(kind, sheet)
		if len(problems) > 0 {
			writeBulkProblems(w, problems)
			return
		}
		op := operatorFrom(r.Context())
		hash := bulkdom.Hash(kind, rows)
		id := uuid.NewString()
		b := bulkstore.Batch{ID: id, ProjectID: pid, Kind: kind, Hash: hash, WorkflowID: bulkwf.WorkflowID(id), CreatedBy: op.ID}
		existing, err := s.bulkByHash(r, pid, kind, hash)
		if err != nil {
			s.internal(w, r, err)
			return
		}
		status := http.StatusOK
		if existing == nil {
			problems, err = bulkstore.Check(r.Context(), s.cfg.DB, pid, kind, rows, op.scopeIn(pid))
			if err != nil {
				s.internal(w, r, err)
				return
			}
			if len(problems) > 0 {
				writeBulkProblems(w, problems)
				return
			}
			var created bool
			if b, created, err = bulkstore.Create(r.Context(), s.cfg.DB, b, rows); err != nil {
				s.internal(w, r, err)
				return
			}
			if created {
				status = http.StatusAccepted
			}
		} else {
			b = *existing
		}
		setAudit(r, pid, "bulk "+b.ID, map[string]any{"kind": string(kind), "rows": len(rows), "hash": hash, "new": status == http.StatusAccepted})
		// Starting again is harmless (the ID is taken) and heals a batch whose
		// first start never reached Temporal.
		var code string
		if err := s.cfg.DB.QueryRow(r.Context(), `select code from projects where id=$1`, pid).Scan(&code); err != nil {
			s.internal(w, r, err)
			return
		}
		in := bulkwf.Input{BatchID: b.ID, ProjectID: pid, ProjectCode: code, Kind: kind, OperatorID: b.CreatedBy, DispatchWindow: s.cfg.DispatchWindow}
		if err := names.StartOnce(r.Context(), s.cfg.Temporal, b.WorkflowID, bulkwf.Kind,
			names.Attributes(code, bulkwf.Kind, string(kind), "running"), in); err != nil {
			s.log.Error("start bulk workflow", "batch", b.ID, "error", err)
			writeProblem(w, http.StatusServiceUnavailable, CodeTemporalUnavailable, "the batch is recorded; send the same sheet again to start it")
			return
		}
		writeJSON(w, status, b)
	}
}

func (s *Server) bulkByHash(r *http.Request, pid string, kind bulkdom.Kind, hash string) (*bulkstore.Batch, error) {
	var id string
	err := s.cfg.DB.QueryRow(r.Context(), `select coalesce((select id::text from bulk_batches where project_id=$1 and kind=$2 and content_hash=$3), '')`,
		pid, string(kind), hash).Scan(&id)
	if err != nil || id == "" {
		return nil, err
	}
	b, err := bulkstore.Get(r.Context(), s.cfg.DB, []string{pid}, id)
	return &b, err
}

// writeBulkProblems answers a sheet with problems: all of them (the first
// 200), so the operator mends the sheet in one go; nothing was started.
func writeBulkProblems(w http.ResponseWriter, problems []bulkdom.Problem) {
	p := importProblem{
		Problem: Problem{Type: "https://voltflow.dev/problems/" + CodeInvalidImport, Title: "The sheet has problems",
			Status: http.StatusUnprocessableEntity, Code: CodeInvalidImport,
			Detail: fmt.Sprintf("%d problems, first %s; nothing was started", len(problems), problems[0])},
		ProblemCount: len(problems),
		Problems:     problems[:min(len(problems), 200)],
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_ = json.NewEncoder(w).Encode(p)
}

var errMediaType = errors.New("unsupported media type")

// readBulkSheet reads the uploaded workbook's first sheet, whole: a raw
// xlsx body (as the meter import takes) or the first file of a
// multipart/form-data form (a browser's upload).
func readBulkSheet(w http.ResponseWriter, r *http.Request) ([][]string, error) {
	body := http.MaxBytesReader(w, r.Body, maxBulkBytes)
	mediaType, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var src io.Reader
	switch mediaType {
	case xlsxType:
		src = body
	case "multipart/form-data":
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if err != nil {
				return nil, fmt.Errorf("no workbook in the form: %w", err)
			}
			if part.FileName() != "" {
				src = part
				break
			}
		}
	default:
		return nil, errMediaType
	}
	heading, next, done, err := xlsxRows(src)
	defer done()
	if err != nil {
		return nil, err
	}
	if heading == nil {
		return nil, errors.New("the sheet is empty")
	}
	sheet := [][]string{heading}
	for len(sheet) <= bulkdom.MaxRows+1 {
		row, ok, err := next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		sheet = append(sheet, row)
	}
	return sheet, nil
}

// bulkTemplate downloads the empty sheet of a kind: its heading row in
// Chinese, as operators fill it in; the upload takes these headings or the
// English column names.
func (s *Server) bulkTemplate(kind bulkdom.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pid, ok := s.bulkProject(w, r, kind)
		if !ok {
			return
		}
		setAudit(r, pid, "bulk template "+string(kind), nil)
		var heading []any
		for _, c := range bulkdom.Template[kind] {
			heading = append(heading, c[1])
		}
		s.writeXLSX(w, r, "bulk-"+string(kind)+"-template.xlsx", [][]any{heading})
	}
}

func (s *Server) writeXLSX(w http.ResponseWriter, r *http.Request, filename string, rows [][]any) {
	f := excelize.NewFile()
	defer func() { _ = f.Close() }()
	for i, row := range rows {
		cell, err := excelize.CoordinatesToCellName(1, i+1)
		if err == nil {
			err = f.SetSheetRow("Sheet1", cell, &row)
		}
		if err != nil {
			s.internal(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, filename))
	_ = f.Write(w)
}

func (s *Server) bulkBatch(w http.ResponseWriter, r *http.Request) (bulkstore.Batch, bool) {
	pid, ok := s.viewProject(w, r)
	if !ok {
		return bulkstore.Batch{}, false
	}
	b, err := bulkstore.Get(r.Context(), s.cfg.DB, []string{pid}, chi.URLParam(r, "id"))
	return b, s.found(w, r, err, bulkstore.ErrNotFound, "bulk batch not found")
}

// getBulk answers a batch's progress: its rows counted by state.
func (s *Server) getBulk(w http.ResponseWriter, r *http.Request) {
	if b, ok := s.bulkBatch(w, r); ok {
		writeJSON(w, http.StatusOK, b)
	}
}

// bulkResult downloads each row's outcome as xlsx.
func (s *Server) bulkResult(w http.ResponseWriter, r *http.Request) {
	b, ok := s.bulkBatch(w, r)
	if !ok {
		return
	}
	setAudit(r, b.ProjectID, "bulk "+b.ID, nil)
	out, err := bulkstore.Outcomes(r.Context(), s.cfg.DB, b.ID)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	var rows [][]any
	if b.Kind == bulkdom.Recharges {
		rows = append(rows, []any{"行号 row", "表号 meter_no", "充值金额 amount", "流水号 transaction_no", "状态 state", "结果 outcome", "说明 detail", "recharge_id"})
		for _, o := range out {
			rows = append(rows, []any{o.Line, o.MeterNo, o.Amount.String(), o.TransactionNo, o.State, o.Outcome, o.Detail, o.RechargeID})
		}
	} else {
		rows = append(rows, []any{"行号 row", "表号 meter_no", "户名 customer_name", "电话 phone", "房间编号 unit", "状态 state", "结果 outcome", "说明 detail", "户号 account_no"})
		for _, o := range out {
			rows = append(rows, []any{o.Line, o.MeterNo, o.CustomerName, o.Phone, o.Unit, o.State, o.Outcome, o.Detail, o.AccountNo})
		}
	}
	s.writeXLSX(w, r, "bulk-"+b.ID+"-result.xlsx", rows)
}
