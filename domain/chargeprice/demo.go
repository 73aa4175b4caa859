package chargeprice

import (
	"time"

	"github.com/voltflow/voltflow/domain/money"
	"github.com/voltflow/voltflow/domain/tariff"
)

// DemoVersion is the demo station's strategy: four TOU periods in a
// Shenzhen-like day (谷 00–08, 平 08–11, 峰 11–14, 平 14–19, 尖 19–21,
// 峰 21–23, 谷 23–24), in force from 2020 on.
func DemoVersion() Version {
	p := func(e, s string) PeriodPrice {
		return PeriodPrice{Energy: mustPrice(e), Service: mustPrice(s)}
	}
	return Version{
		Version:       1,
		EffectiveFrom: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		Schedule: []tariff.Segment{
			{StartMinute: 0, Period: tariff.Valley}, {StartMinute: 8 * 60, Period: tariff.Flat},
			{StartMinute: 11 * 60, Period: tariff.Peak}, {StartMinute: 14 * 60, Period: tariff.Flat},
			{StartMinute: 19 * 60, Period: tariff.Sharp}, {StartMinute: 21 * 60, Period: tariff.Peak},
			{StartMinute: 23 * 60, Period: tariff.Valley},
		},
		Prices: map[tariff.Period]PeriodPrice{
			tariff.Sharp: p("1.2000", "0.8000"), tariff.Peak: p("1.0000", "0.6000"),
			tariff.Flat: p("0.7000", "0.5000"), tariff.Valley: p("0.3000", "0.4000"),
		},
	}
}

func mustPrice(s string) money.Price {
	p, err := money.ParsePrice(s)
	if err != nil {
		panic(err)
	}
	return p
}
