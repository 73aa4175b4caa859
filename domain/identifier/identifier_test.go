package identifier_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/voltflow/voltflow/domain/identifier"
)

func TestFormats(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(string) error
		in    string
		want  error
	}{
		{"VIN", identifier.VIN, "LVVDB11B0ND000001", nil},
		{"VIN all digits", identifier.VIN, "12345678901234567", nil},
		{"VIN any check digit", identifier.VIN, "LVVDB11BXND000001", nil},
		{"VIN short", identifier.VIN, "SHORT", identifier.ErrVIN},
		{"VIN 16", identifier.VIN, "LVVDB11B0ND00000", identifier.ErrVIN},
		{"VIN 18", identifier.VIN, "LVVDB11B0ND0000012", identifier.ErrVIN},
		{"VIN with I", identifier.VIN, "LVVDB11B0ND00000I", identifier.ErrVIN},
		{"VIN with O", identifier.VIN, "OVVDB11B0ND000001", identifier.ErrVIN},
		{"VIN with Q", identifier.VIN, "LVVDB11B0NDQ00001", identifier.ErrVIN},
		{"VIN lower case", identifier.VIN, "lvvdb11b0nd000001", identifier.ErrVIN},
		{"VIN with a space", identifier.VIN, "LVVDB11B0ND 00001", identifier.ErrVIN},
		{"VIN of 17 bytes not characters", identifier.VIN, "LVVDB11B0ND000粤", identifier.ErrVIN},

		{"plate ordinary", identifier.Plate, "粤B12345", nil},
		{"plate letters", identifier.Plate, "京AF0236", nil},
		{"plate new energy", identifier.Plate, "粤BD12345", nil},
		{"plate trailer", identifier.Plate, "沪A1234挂", nil},
		{"plate driving school", identifier.Plate, "川A1234学", nil},
		{"plate police", identifier.Plate, "琼A0001警", nil},
		{"plate Hong Kong", identifier.Plate, "粤Z1234港", nil},
		{"plate Macao", identifier.Plate, "粤Z1234澳", nil},
		{"plate empty", identifier.Plate, "", identifier.ErrPlate},
		{"plate short", identifier.Plate, "粤B1234", identifier.ErrPlate},
		{"plate long", identifier.Plate, "粤BD123456", identifier.ErrPlate},
		{"plate no province", identifier.Plate, "AB12345", identifier.ErrPlate},
		{"plate unknown province", identifier.Plate, "港B12345", identifier.ErrPlate},
		{"plate digit for letter", identifier.Plate, "粤812345", identifier.ErrPlate},
		{"plate lower case", identifier.Plate, "粤b12345", identifier.ErrPlate},
		{"plate suffix on new energy", identifier.Plate, "粤BD1234挂", identifier.ErrPlate},
		{"plate suffix in the middle", identifier.Plate, "粤B12挂45", identifier.ErrPlate},
		{"plate full-width digit", identifier.Plate, "粤B1234５", identifier.ErrPlate},
		{"plate with a space", identifier.Plate, "粤B 1234", identifier.ErrPlate},

		{"card demo", identifier.CardNo, "D0000001", nil},
		{"card test", identifier.CardNo, "T0000041", nil},
		{"card _ and -", identifier.CardNo, "fleet_01-a", nil},
		{"card 32", identifier.CardNo, strings.Repeat("9", 32), nil},
		{"card empty", identifier.CardNo, "", identifier.ErrCardNo},
		{"card 33", identifier.CardNo, strings.Repeat("9", 33), identifier.ErrCardNo},
		{"card space", identifier.CardNo, "D 0000001", identifier.ErrCardNo},
		{"card Chinese", identifier.CardNo, "卡0001", identifier.ErrCardNo},
		{"card slash", identifier.CardNo, "D/1", identifier.ErrCardNo},

		{"meter demo", identifier.MeterNo, "M0001", nil},
		{"meter DL/T 645 address", identifier.MeterNo, "000000000001", nil},
		{"meter with a dot and Chinese", identifier.MeterNo, "表.A-01", nil},
		{"meter 32", identifier.MeterNo, strings.Repeat("M", 32), nil},
		{"meter empty", identifier.MeterNo, "", identifier.ErrMeterNo},
		{"meter 33", identifier.MeterNo, strings.Repeat("M", 33), identifier.ErrMeterNo},
		{"meter space", identifier.MeterNo, "M 1", identifier.ErrMeterNo},
		{"meter tab", identifier.MeterNo, "M\t1", identifier.ErrMeterNo},
		{"meter slash", identifier.MeterNo, "M/1", identifier.ErrMeterNo},
		{"meter question mark", identifier.MeterNo, "M?1", identifier.ErrMeterNo},
		{"meter hash", identifier.MeterNo, "M#1", identifier.ErrMeterNo},
		{"meter percent", identifier.MeterNo, "M%1", identifier.ErrMeterNo},
		{"meter NUL", identifier.MeterNo, "M\x001", identifier.ErrMeterNo},
		{"meter invalid UTF-8", identifier.MeterNo, "M\xff", identifier.ErrMeterNo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.check(tc.in); !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Errorf("%q: got %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}
