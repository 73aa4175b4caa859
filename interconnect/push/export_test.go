package push

import "context"

// Claim exposes the pump's claim to the tests: the ids of the rows it
// would send next.
func (p *Pump) Claim(ctx context.Context, inflight map[int64]bool, limit int) ([]int64, error) {
	rows, err := p.claim(ctx, inflight, limit)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.id
	}
	return ids, nil
}
