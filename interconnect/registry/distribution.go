package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrMeterNotInProject is returned when the meter linked to distribution
// equipment is not a meter of the station's project.
var ErrMeterNotInProject = errors.New("registry: meter is not in the station's project")

// LinkDisEquipmentMeter records a station's distribution equipment (table
// 17) read through the metering point meterNo (a three-phase meter of the
// station's project, profile ref-3phase-v1): query_disequipmentstatus_info
// then answers from the meter's latest reading and electrical parameters.
func LinkDisEquipmentMeter(ctx context.Context, q Querier, projectID, stationID string, info DisEquipmentInfo, meterNo string) error {
	var meterID string
	err := q.QueryRow(ctx, `select id::text from meters where meter_no=$1 and project_id::text=$2`, meterNo, projectID).Scan(&meterID)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("meter %q: %w", meterNo, ErrMeterNotInProject)
	}
	if err != nil {
		return fmt.Errorf("meter %s: %w", meterNo, err)
	}
	raw, err := json.Marshal(info)
	if err != nil {
		return err
	}
	_, err = q.Exec(ctx, `insert into distribution_equipment (dis_equipment_id, station_id, info, meter_id) values ($1,$2,$3,$4)
		on conflict (dis_equipment_id) do update set station_id=excluded.station_id, info=excluded.info,
		meter_id=excluded.meter_id, updated_at=now()`, info.DisequipmentID, stationID, raw, meterID)
	if err != nil {
		return fmt.Errorf("distribution equipment %s: %w", info.DisequipmentID, err)
	}
	return nil
}

// meteredStatus is table 18 from a metering point's latest reading (the
// forward active energy register) and electrical parameters, or false when
// the meter has not been read yet. The three-phase profile has no
// reactive-energy, reverse-energy or frequency registers, nor feeder,
// environment or smoke inputs: those fields answer 0 (feeders: each
// reported closed while the meter reads supply).
func meteredStatus(ctx context.Context, q Querier, meterID string, info DisEquipmentInfo) (DisEquipmentStatusInfo, bool, error) {
	st := DisEquipmentStatusInfo{DisequipmentID: info.DisequipmentID}
	var energy float64
	err := q.QueryRow(ctx, `select energy_kwh::float8 from readings where meter_id=$1 order by read_at desc limit 1`,
		meterID).Scan(&energy)
	if errors.Is(err, pgx.ErrNoRows) {
		return st, false, nil
	}
	if err != nil {
		return st, false, fmt.Errorf("reading of %s: %w", meterID, err)
	}
	st.FoPEnergy = KWh(energy)
	var ua, ub, uc, ia, ib, ic, p, qv, pf float64
	err = q.QueryRow(ctx, `select coalesce(ua_v,0)::float8, coalesce(ub_v,0)::float8, coalesce(uc_v,0)::float8,
		coalesce(ia_a,0)::float8, coalesce(ib_a,0)::float8, coalesce(ic_a,0)::float8, coalesce(p_kw,0)::float8,
		coalesce(q_kvar,0)::float8, coalesce(pf,0)::float8
		from reading_parameters where meter_id=$1 order by read_at desc limit 1`, meterID).
		Scan(&ua, &ub, &uc, &ia, &ib, &ic, &p, &qv, &pf)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return st, false, fmt.Errorf("parameters of %s: %w", meterID, err)
	}
	st.AVoltage, st.BVoltage, st.CVoltage = Float(ua), Float(ub), Float(uc)
	st.ACurrent, st.BCurrent, st.CCurrent = Float(ia), Float(ib), Float(ic)
	st.CurPPower, st.CurQPower, st.Factor = Float(p), Float(qv), Float(pf)
	st.CurSPower = Float(math.Round(math.Hypot(p, qv)*1000) / 1000)
	if ua+ub+uc > 0 {
		st.FeedState = strings.Repeat("1", max(min(info.FeedNum, 64), 1))
	} else {
		st.FeedState = strings.Repeat("0", max(min(info.FeedNum, 64), 1))
	}
	return st, true, nil
}

// disEquipmentRows is the station's distribution equipment (optionally
// one) with its stored status and meter, in id order.
func disEquipmentRows(ctx context.Context, q Querier, stationID, disID string) ([]DisEquipmentStatusInfo, error) {
	rows, err := q.Query(ctx, `select info, status, coalesce(meter_id::text,'') from distribution_equipment
		where station_id=$1 and ($2 = '' or dis_equipment_id=$2) order by dis_equipment_id`, stationID, disID)
	if err != nil {
		return nil, err
	}
	type row struct {
		info   DisEquipmentInfo
		status []byte
		meter  string
	}
	all, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		var info []byte
		if err := r.Scan(&info, &x.status, &x.meter); err != nil {
			return x, err
		}
		return x, json.Unmarshal(info, &x.info)
	})
	if err != nil {
		return nil, err
	}
	out := []DisEquipmentStatusInfo{}
	for _, x := range all {
		if x.meter != "" {
			st, ok, err := meteredStatus(ctx, q, x.meter, x.info)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, st)
			}
			continue
		}
		if len(x.status) > 0 {
			var st DisEquipmentStatusInfo
			if err := json.Unmarshal(x.status, &st); err != nil {
				return nil, err
			}
			out = append(out, st)
		}
	}
	return out, nil
}

// videoFields checks a video entry (table 22).
func videoFields(link string, videoType int, user, authCode string) error {
	switch {
	case link == "" || len([]rune(link)) > 500:
		return errors.New("videoLink is required, at most 500 characters")
	case videoType != 1 && videoType != 2:
		return errors.New("videoType is 1 (live) or 2 (playback)")
	case user == "":
		return errors.New("videoUser is required")
	case len([]rune(authCode)) > 255:
		return errors.New("videoAuthCode is at most 255 characters")
	}
	return nil
}

// ErrInvalidVideo wraps a video entry's field error.
var ErrInvalidVideo = errors.New("registry: invalid video entry")

// Video is one camera entry of a station, as the registry API shows it
// (the auth code is write-only).
type Video struct {
	ID          int64     `json:"id"`
	StationID   string    `json:"stationId"`
	VideoLink   string    `json:"videoLink"`
	VideoType   int       `json:"videoType"`
	VideoUser   string    `json:"videoUser"`
	HasAuthCode bool      `json:"hasAuthCode"`
	CreatedAt   time.Time `json:"createdAt"`
}

// AddStationVideo checks and adds a camera entry, returning it.
func AddStationVideo(ctx context.Context, q Querier, stationID, link string, videoType int, user, authCode string) (Video, error) {
	if err := videoFields(link, videoType, user, authCode); err != nil {
		return Video{}, fmt.Errorf("%w: %w", ErrInvalidVideo, err)
	}
	v := Video{StationID: stationID, VideoLink: link, VideoType: videoType, VideoUser: user, HasAuthCode: authCode != ""}
	err := q.QueryRow(ctx, `insert into station_videos (station_id, video_link, video_type, video_user, video_auth_code)
		values ($1,$2,$3,$4,nullif($5,'')) returning id, created_at`, stationID, link, videoType, user, authCode).
		Scan(&v.ID, &v.CreatedAt)
	if err != nil {
		return Video{}, fmt.Errorf("video of %s: %w", stationID, err)
	}
	return v, nil
}

// StationVideos lists a station's camera entries.
func StationVideos(ctx context.Context, q Querier, stationID string) ([]Video, error) {
	rows, err := q.Query(ctx, `select id, station_id, video_link, video_type, video_user, video_auth_code is not null, created_at
		from station_videos where station_id=$1 order by id`, stationID)
	if err != nil {
		return nil, fmt.Errorf("videos of %s: %w", stationID, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Video])
	if out == nil {
		out = []Video{}
	}
	return out, err
}

// DeleteStationVideo removes a camera entry of the station (ErrUnknown if none).
func DeleteStationVideo(ctx context.Context, q Querier, stationID string, id int64) error {
	tag, err := q.Exec(ctx, `delete from station_videos where station_id=$1 and id=$2`, stationID, id)
	if err != nil {
		return fmt.Errorf("video %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("video %d: %w", id, ErrUnknown)
	}
	return nil
}

// Demo regulator data (contracts.md, "Regulator data in the demo").
const (
	DemoDisEquipmentID = "DE0000000001"
	DemoVideoLink      = "rtsp://127.0.0.1:8554/demo-station/ch1"
)

// LoadDemoMonitoring gives the demo station a camera entry and, when the
// project has a three-phase meter (profile ref-3phase-v1), its
// distribution equipment DemoDisEquipmentID read through that meter. Run
// by `voltflow dev` only (tests seed their own); idempotent.
func LoadDemoMonitoring(ctx context.Context, q Querier, projectID string) error {
	var has bool
	if err := q.QueryRow(ctx, `select exists(select 1 from station_videos where station_id=$1)`, DemoStationID).Scan(&has); err != nil {
		return fmt.Errorf("demo video: %w", err)
	}
	if !has {
		if _, err := AddStationVideo(ctx, q, DemoStationID, DemoVideoLink, 1, "regulator", "demo-video"); err != nil {
			return err
		}
	}
	var meterNo string
	err := q.QueryRow(ctx, `select meter_no from meters where project_id::text=$1 and profile='ref-3phase-v1'
		order by meter_no limit 1`, projectID).Scan(&meterNo)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil // no three-phase meter in the demo: nothing to read the transformer with
	}
	if err != nil {
		return fmt.Errorf("demo distribution meter: %w", err)
	}
	return LinkDisEquipmentMeter(ctx, q, projectID, DemoStationID, DisEquipmentInfo{DisequipmentID: DemoDisEquipmentID,
		ManufacturerID: DemoOperatorID, ManufacturerName: "Demo Power", EquipmentModel: "SCB13-1250/10",
		ProductionDate: "2024-01-15", RatedInVoltage: 10, RatedOutVoltage: 400, RatedPower: 1250, FeedNum: 4}, meterNo)
}
