package centralsystem

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/voltflow/voltflow/devices/ocpp"
	"github.com/voltflow/voltflow/store"
)

// MessageLog is the device message log (设备报文查看): it takes every frame
// from the central system and writes them to ocpp_messages in batches with
// COPY, so logging costs the connection goroutines nothing but a channel
// send. When the database falls behind, the buffer fills and the charge
// points' read loops wait: frames are delayed, never dropped silently.
type MessageLog struct {
	db   *store.DB
	log  *slog.Logger
	ch   chan ocpp.Frame
	stop chan struct{}
	once sync.Once
	done chan struct{}
}

var _ ocpp.FrameSink = (*MessageLog)(nil)

// NewMessageLog starts the writer; it stops, after writing what it holds,
// when ctx ends or Close is called.
func NewMessageLog(ctx context.Context, db *store.DB, log *slog.Logger) *MessageLog {
	if log == nil {
		log = slog.Default()
	}
	m := &MessageLog{db: db, log: log, ch: make(chan ocpp.Frame, 16384), stop: make(chan struct{}), done: make(chan struct{})}
	go m.run(ctx)
	return m
}

// Frame queues one frame.
func (m *MessageLog) Frame(f ocpp.Frame) {
	select {
	case m.ch <- f:
	case <-m.done:
	}
}

// Close flushes and stops the writer; frames after it are dropped.
func (m *MessageLog) Close() {
	m.once.Do(func() { close(m.stop) })
	<-m.done
}

const batchMax = 1000

func (m *MessageLog) run(ctx context.Context) {
	defer close(m.done)
	batch := make([]ocpp.Frame, 0, batchMax)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	flush := func() {
		if len(batch) > 0 {
			m.write(context.WithoutCancel(ctx), batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case f := <-m.ch:
			batch = append(batch, f)
			if len(batch) >= batchMax {
				flush()
			}
		case <-tick.C:
			flush()
		case <-m.stop:
			m.drain(ctx, batch)
			return
		case <-ctx.Done():
			m.drain(ctx, batch)
			return
		}
	}
}

// drain writes what is queued, then returns.
func (m *MessageLog) drain(ctx context.Context, batch []ocpp.Frame) {
	for {
		select {
		case f := <-m.ch:
			batch = append(batch, f)
			if len(batch) >= batchMax {
				m.write(context.WithoutCancel(ctx), batch)
				batch = batch[:0]
			}
		default:
			if len(batch) > 0 {
				m.write(context.WithoutCancel(ctx), batch)
			}
			return
		}
	}
}

func (m *MessageLog) write(ctx context.Context, batch []ocpp.Frame) {
	rows := make([][]any, len(batch))
	for i, f := range batch {
		// PostgreSQL text holds neither NUL nor invalid UTF-8; a frame with
		// either is malformed OCPP anyway and is kept readable.
		text := strings.ToValidUTF8(strings.ReplaceAll(string(f.Data), "\x00", "\\u0000"), "\uFFFD")
		rows[i] = []any{f.ChargePointID, string(f.Direction), int16(f.MessageType), f.UniqueID, f.Action, text, f.At}
	}
	var err error
	for attempt := range 5 {
		_, err = m.db.CopyFrom(ctx, pgx.Identifier{"ocpp_messages"},
			[]string{"charge_point_id", "direction", "message_type", "unique_id", "action", "frame", "at"},
			pgx.CopyFromRows(rows))
		if err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	m.log.Error("ocpp: message log lost frames", "frames", len(batch), "error", err)
}
