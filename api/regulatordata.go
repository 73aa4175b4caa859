package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/voltflow/voltflow/interconnect/registry"
)

// regulatorDataRoutes set what the regulator's monitoring queries answer
// from (issue 22 §3): a station's distribution equipment (配电设备) read
// through a metering point, and its camera entries (query_video_info).
func (s *Server) regulatorDataRoutes(r chi.Router) {
	r.With(s.audit("distribution-equipment.link")).
		Put("/charging-stations/{id}/distribution-equipment/{disequipmentId}", s.linkDistributionEquipment)
	r.Get("/charging-stations/{id}/videos", s.listVideos)
	r.With(s.audit("video.create")).Post("/charging-stations/{id}/videos", s.addVideo)
	r.With(s.audit("video.delete")).Delete("/charging-stations/{id}/videos/{videoId}", s.deleteVideo)
}

// DistributionEquipmentRequest links distribution equipment (table 17) to
// the three-phase meter that reads it.
type DistributionEquipmentRequest struct {
	MeterNo          string  `json:"meterNo"`
	ManufacturerID   string  `json:"manufacturerId"`
	ManufacturerName string  `json:"manufacturerName"`
	EquipmentModel   string  `json:"equipmentModel"`
	ProductionDate   string  `json:"productionDate"`
	RatedInVoltage   float64 `json:"ratedInVoltage"`
	RatedOutVoltage  float64 `json:"ratedOutVoltage"`
	RatedPower       float64 `json:"ratedPower"`
	FeedNum          int     `json:"feedNum"`
}

// DistributionEquipment is the linked equipment.
type DistributionEquipment struct {
	DistributionEquipmentRequest
	DisequipmentID string `json:"disequipmentId"`
	StationID      string `json:"stationId"`
}

func (s *Server) linkDistributionEquipment(w http.ResponseWriter, r *http.Request) {
	id, dis := chi.URLParam(r, "id"), chi.URLParam(r, "disequipmentId")
	pid, ok := s.stationAccess(w, r, id, "distribution-equipment/"+dis, true)
	if !ok {
		return
	}
	var req DistributionEquipmentRequest
	if !decode(w, r, &req) {
		return
	}
	switch {
	case dis == "" || len(dis) > 23:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "disequipmentId is at most 23 characters", "disequipmentId")
		return
	case req.MeterNo == "":
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "meterNo is required", "meterNo")
		return
	case len(req.ManufacturerID) != 9:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "manufacturerId is 9 characters", "manufacturerId")
		return
	case req.FeedNum < 1 || req.FeedNum > 64:
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "feedNum is 1..64", "feedNum")
		return
	}
	if req.ProductionDate != "" {
		if _, err := time.Parse(registry.DateLayout, req.ProductionDate); err != nil {
			writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, "productionDate is yyyy-MM-dd", "productionDate")
			return
		}
	}
	setAudit(r, pid, "distribution-equipment/"+dis, map[string]any{"stationId": id, "meterNo": req.MeterNo})
	info := registry.DisEquipmentInfo{DisequipmentID: dis, ManufacturerID: req.ManufacturerID,
		ManufacturerName: req.ManufacturerName, EquipmentModel: req.EquipmentModel, ProductionDate: req.ProductionDate,
		RatedInVoltage: registry.Fixed1(req.RatedInVoltage), RatedOutVoltage: registry.Fixed1(req.RatedOutVoltage),
		RatedPower: registry.Fixed1(req.RatedPower), FeedNum: req.FeedNum}
	err := registry.LinkDisEquipmentMeter(r.Context(), s.cfg.DB, pid, id, info, req.MeterNo)
	if errors.Is(err, registry.ErrMeterNotInProject) {
		writeProblemField(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error(), "meterNo")
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, DistributionEquipment{DistributionEquipmentRequest: req, DisequipmentID: dis, StationID: id})
}

// VideoRequest is a camera entry of a station (table 22).
type VideoRequest struct {
	VideoLink     string `json:"videoLink"`
	VideoType     int    `json:"videoType"`
	VideoUser     string `json:"videoUser"`
	VideoAuthCode string `json:"videoAuthCode"`
}

func (s *Server) listVideos(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if _, ok := s.stationAccess(w, r, id, "charging-station/"+id, false); !ok {
		return
	}
	vs, err := registry.StationVideos(r.Context(), s.cfg.DB, id)
	if err != nil {
		s.internal(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": vs})
}

func (s *Server) addVideo(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pid, ok := s.stationAccess(w, r, id, "charging-station/"+id, true)
	if !ok {
		return
	}
	var req VideoRequest
	if !decode(w, r, &req) {
		return
	}
	v, err := registry.AddStationVideo(r.Context(), s.cfg.DB, id, req.VideoLink, req.VideoType, req.VideoUser, req.VideoAuthCode)
	if errors.Is(err, registry.ErrInvalidVideo) {
		writeProblem(w, http.StatusUnprocessableEntity, CodeInvalidField, err.Error())
		return
	}
	if err != nil {
		s.internal(w, r, err)
		return
	}
	setAudit(r, pid, "station-video/"+strconv.FormatInt(v.ID, 10), map[string]any{"stationId": id, "videoType": v.VideoType})
	writeJSON(w, http.StatusCreated, v)
}

func (s *Server) deleteVideo(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	pid, ok := s.stationAccess(w, r, id, "charging-station/"+id, true)
	if !ok {
		return
	}
	vid, err := strconv.ParseInt(chi.URLParam(r, "videoId"), 10, 64)
	if err != nil {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "video not found")
		return
	}
	setAudit(r, pid, "station-video/"+strconv.FormatInt(vid, 10), map[string]any{"stationId": id})
	if err := registry.DeleteStationVideo(r.Context(), s.cfg.DB, id, vid); errors.Is(err, registry.ErrUnknown) {
		writeProblem(w, http.StatusNotFound, CodeNotFound, "video not found")
		return
	} else if err != nil {
		s.internal(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
