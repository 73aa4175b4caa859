// Package meters drives prepaid meters through their gateways: it sends
// recharges, reads state, and keeps the last state read in PostgreSQL.
package meters

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/voltflow/voltflow/devices/dlt645"
	"github.com/voltflow/voltflow/devices/modbus"
	"github.com/voltflow/voltflow/devices/profile"
	"github.com/voltflow/voltflow/store"
)

// Gateways keeps one client per gateway address, shared by every activity of
// the worker: a gateway takes one connection and queues requests on it.
type Gateways struct {
	Timeout time.Duration
	Log     *slog.Logger

	mu      sync.Mutex
	clients map[string]*modbus.Gateway
	dlt     map[string]*dlt645.Client
}

// DLT returns the DL/T 645-2007 client for a gateway address (host:port):
// one connection per gateway, requests addressed to each meter.
func (g *Gateways) DLT(address string) *dlt645.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c, ok := g.dlt[address]; ok {
		return c
	}
	c := dlt645.NewClient(dlt645.ClientConfig{Addr: address, Timeout: g.Timeout})
	if g.dlt == nil {
		g.dlt = map[string]*dlt645.Client{}
	}
	g.dlt[address] = c
	return c
}

// Get returns the client for a gateway address and profile.
func (g *Gateways) Get(address, profileName string) (*modbus.Gateway, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	key := address + "|" + profileName
	if c, ok := g.clients[key]; ok {
		return c, nil
	}
	p, err := profile.Load(profileName)
	if err != nil {
		return nil, err
	}
	c, err := modbus.New(modbus.Config{URL: address, Profile: p, Timeout: g.Timeout, Logger: g.Log})
	if err != nil {
		return nil, err
	}
	if g.clients == nil {
		g.clients = map[string]*modbus.Gateway{}
	}
	g.clients[key] = c
	return c, nil
}

// Close closes every client.
func (g *Gateways) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, c := range g.clients {
		_ = c.Close()
		delete(g.clients, k)
	}
	for k, c := range g.dlt {
		_ = c.Close()
		delete(g.dlt, k)
	}
}

type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// Meter is what device I/O needs to know about a meter.
type Meter struct {
	ID        string
	ProjectID string
	MeterNo   string
	Address   string // gateway host:port
	Protocol  string
	Unit      uint8
	Profile   string
}

// ErrUnknownMeter is a meter id that is not in the database.
var ErrUnknownMeter = errors.New("unknown meter")

func loadMeter(ctx context.Context, db *store.DB, id string) (Meter, error) {
	var m Meter
	var unit int
	var window int
	err := db.QueryRow(ctx, `select m.id, m.project_id, m.meter_no, g.address, g.protocol, m.unit_address, m.profile,
			case when g.pipelining = 'unsupported' then 1 else coalesce(g.max_in_flight, 0) end
		from meters m join gateways g on g.id=m.gateway_id where m.id=$1`, id).
		Scan(&m.ID, &m.ProjectID, &m.MeterNo, &m.Address, &m.Protocol, &unit, &m.Profile, &window)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, fmt.Errorf("meter %s: %w", id, ErrUnknownMeter)
	}
	if err != nil {
		return m, fmt.Errorf("meter %s: %w", id, err)
	}
	if unit < 1 || unit > 247 {
		return m, fmt.Errorf("meter %s: unit address %d outside 1..247", m.MeterNo, unit)
	}
	m.Unit = uint8(unit)
	if m.Protocol != "dlt645-tcp" {
		m.Address = GatewayURL(m.Protocol, m.Address, window)
	}
	return m, nil
}

// GatewayURL is what a Modbus client dials for a gateway row: its address
// with the scheme of its protocol, and its own pipelining window (gateways.max_in_flight,
// 0 for the default) as an option of the URL.
func GatewayURL(protocol, address string, maxInFlight int) string {
	if protocol == "modbus-rtu-tcp" {
		address = "rtuovertcp://" + address
	} // host:port alone is Modbus TCP
	if maxInFlight > 0 {
		address += "?max_in_flight=" + strconv.Itoa(maxInFlight)
	}
	return address
}

// saveState records a reading as the meter's last known state.
func saveState(ctx context.Context, q execer, meterID string, s modbus.Snapshot, at time.Time) error {
	_, err := q.Exec(ctx, `insert into meter_state(meter_id, remaining, purchase_count, cumulative_purchased, energy_kwh,
		relay, mode, status_flags, read_at) values($1, $2::numeric/100, $3, $4::numeric/100, $5::numeric/100, $6, $7, $8, $9)
		on conflict (meter_id) do update set remaining=excluded.remaining, purchase_count=excluded.purchase_count,
		cumulative_purchased=excluded.cumulative_purchased, energy_kwh=excluded.energy_kwh, relay=excluded.relay,
		mode=excluded.mode, status_flags=excluded.status_flags, read_at=excluded.read_at
		where meter_state.read_at <= excluded.read_at`,
		meterID, s.Remaining, int(s.PurchaseCount), s.CumulativePurchased, s.Energy, int(s.Relay), int(s.Mode), int(s.Status), at)
	if err != nil {
		return fmt.Errorf("save state of %s: %w", meterID, err)
	}
	return nil
}
