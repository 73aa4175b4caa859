package analytics

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"github.com/voltflow/voltflow/store"
	"github.com/voltflow/voltflow/store/report"
)

// Protection is the active-protection analysis (主动防护分析) of one
// charger brand and model over the period: completed orders, those the
// charger ended to protect (OCPP EmergencyStop or a protective stop reason)
// and those that ended abnormally (power loss, a reset, the car unplugged,
// no stop or a meter running backwards), failed starts, and their shares.
// The brand is the charger's manufacturer as registered, else the vendor
// its BootNotification gave.
type Protection struct {
	Brand         string `json:"brand"`
	Model         string `json:"model"`
	Chargers      int    `json:"chargers"`
	Orders        int    `json:"orders"`
	Protection    int    `json:"protectionOrders"`
	Abnormal      int    `json:"abnormalOrders"`
	Failed        int    `json:"failedOrders"`
	ProtectionPct string `json:"protectionPct"` // of the completed orders
	AbnormalPct   string `json:"abnormalPct"`
	FailedPct     string `json:"failedPct"` // of all orders, completed and failed
}

// Cursor implements report.Row.
func (r Protection) Cursor() string { return r.Brand + "\x1f" + r.Model }

// Headers implements report.Row.
func (Protection) Headers() []string {
	return []string{"品牌", "型号", "充电桩数", "总订单数", "主动防护订单数", "异常中止订单数", "启动失败订单数", "主动防护占比(%)", "异常中止占比(%)", "失败占比(%)"}
}

// Cells implements report.Row.
func (r Protection) Cells() []any {
	return []any{r.Brand, r.Model, r.Chargers, r.Orders, r.Protection, r.Abnormal, r.Failed, r.ProtectionPct, r.AbnormalPct, r.FailedPct}
}

// ProtectionByModel walks brands and models in order.
func ProtectionByModel(ctx context.Context, db *store.DB, f Filter, p report.Page, fn func(Protection) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	return walk(ctx, db, func(rows pgx.Rows) (Protection, error) {
		var r Protection
		err := rows.Scan(&r.Brand, &r.Model, &r.Chargers, &r.Orders, &r.Protection, &r.Abnormal, &r.Failed)
		o := decimal.NewFromInt(int64(r.Orders))
		r.ProtectionPct = pct(decimal.NewFromInt(int64(r.Protection)), o)
		r.AbnormalPct = pct(decimal.NewFromInt(int64(r.Abnormal)), o)
		r.FailedPct = pct(decimal.NewFromInt(int64(r.Failed)), o.Add(decimal.NewFromInt(int64(r.Failed))))
		return r, err
	}, fn, `with eq as (
			select e.equipment_id, coalesce(nullif(e.manufacturer_name, ''), nullif(cp.vendor, ''), e.manufacturer_id) as brand,
				coalesce(nullif(e.equipment_model, ''), cp.model, '') as model
			from charging_stations s join charging_equipment e on e.station_id = s.station_id
			left join ocpp_charge_points cp on cp.equipment_id = e.equipment_id
			where `+stationWhere+`),
		r as materialized (select r.equipment_id, sum(r.orders) as orders, sum(r.protection) as protection, sum(r.abnormal) as abnormal,
				sum(r.failed) as failed
			from charging_equipment_rollup r where r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date
				and r.equipment_id = any(array(select equipment_id from eq))
			group by 1)
		select eq.brand, eq.model, count(*)::int, coalesce(sum(r.orders), 0)::int, coalesce(sum(r.protection), 0)::int,
			coalesce(sum(r.abnormal), 0)::int, coalesce(sum(r.failed), 0)::int
		from eq left join r using (equipment_id)
		group by 1, 2 having eq.brand || chr(31) || eq.model > $7 order by eq.brand || chr(31) || eq.model limit $8`,
		append(f.args(), p.After, limitArg(p))...)
}

// Customer is one customer who charged at the stations in the period
// (公司客户查询): orders, energy, amount, how many stations, first and last day.
type Customer struct {
	CustomerID string `json:"customerId"`
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	Kind       string `json:"kind"`
	Orders     int    `json:"orders"`
	EnergyKWh  string `json:"energyKwh"`
	Amount     string `json:"amount"`
	Stations   int    `json:"stations"`
	FirstDay   string `json:"firstDay"`
	LastDay    string `json:"lastDay"`
}

// Cursor implements report.Row.
func (r Customer) Cursor() string { return r.CustomerID }

// Headers implements report.Row.
func (Customer) Headers() []string {
	return []string{"客户编号", "姓名", "电话", "类型", "充电次数", "充电量(kWh)", "金额(元)", "充电站数", "首次充电", "最近充电"}
}

// Cells implements report.Row.
func (r Customer) Cells() []any {
	return []any{r.CustomerID, r.Name, r.Phone, r.Kind, r.Orders, f64(r.EnergyKWh), r.Amount, r.Stations, r.FirstDay, r.LastDay}
}

// Customers walks the customers by id.
func Customers(ctx context.Context, db *store.DB, f Filter, p report.Page, fn func(Customer) error) error {
	if _, err := f.Validate(); err != nil {
		return err
	}
	return walk(ctx, db, func(rows pgx.Rows) (Customer, error) {
		var r Customer
		var energy, amount decimal.Decimal
		err := rows.Scan(&r.CustomerID, &r.Name, &r.Phone, &r.Kind, &r.Orders, &energy, &amount, &r.Stations, &r.FirstDay, &r.LastDay)
		r.EnergyKWh, r.Amount = kwh(energy), money(amount)
		return r, err
	}, fn, `with st as (select s.station_id from charging_stations s where `+stationWhere+`),
		r as materialized (select r.customer_id, sum(r.orders)::int as orders, sum(r.energy_kwh) as energy, sum(r.amount) as amount,
				count(distinct r.station_id)::int as stations, min(r.day)::text as first_day, max(r.day)::text as last_day
			from charging_customer_rollup r where r.project_id = any($1::uuid[]) and r.day >= $5::date and r.day < $6::date
				and r.station_id = any(array(select station_id from st)) and r.customer_id::text > $7
				and r.orders <> 0
			group by 1 having sum(r.orders) > 0)
		select r.customer_id::text, c.name, coalesce(c.phone, ''), c.kind, r.orders, r.energy, r.amount, r.stations,
			r.first_day, r.last_day
		from r join customers c on c.id = r.customer_id order by r.customer_id limit $8`,
		append(f.args(), p.After, limitArg(p))...)
}
