package push_test

import (
	"fmt"
	"testing"

	"github.com/voltflow/voltflow/interconnect/push"
	"github.com/voltflow/voltflow/interconnect/registry"
)

func TestStationInfoPages(t *testing.T) {
	for _, tc := range []struct{ equipment, pages, last int }{{0, 1, 0}, {1, 1, 1}, {100, 1, 100}, {101, 2, 1}, {250, 3, 50}} {
		st := registry.StationInfo{StationID: "44030000000000000001"}
		for i := range tc.equipment {
			st.EquipmentInfos = append(st.EquipmentInfos, registry.EquipmentInfo{EquipmentID: fmt.Sprint(i)})
		}
		pages := push.StationInfoPages(st)
		if len(pages) != tc.pages || len(pages[len(pages)-1].EquipmentInfos) != tc.last {
			t.Fatalf("%d equipment: %d pages, last with %d", tc.equipment, len(pages), len(pages[len(pages)-1].EquipmentInfos))
		}
		seen := 0
		for _, p := range pages {
			if p.StationID != st.StationID || len(p.EquipmentInfos) > push.MaxEquipmentPerMessage {
				t.Fatalf("page %+v", p)
			}
			for _, e := range p.EquipmentInfos {
				if e.EquipmentID != fmt.Sprint(seen) {
					t.Fatalf("equipment %s out of order, want %d", e.EquipmentID, seen)
				}
				seen++
			}
		}
	}
}

func TestAlarmAndEventClasses(t *testing.T) {
	for _, tc := range []struct{ code, typ, level int }{{4, 1, 1}, {1, 1, 3}, {31, 1, 2}, {101, 2, 2}, {121, 2, 1}, {203, 3, 2}} {
		typ, level, ok := registry.AlarmClass(tc.code)
		if !ok || typ != tc.typ || level != tc.level {
			t.Errorf("alarm %d: type %d level %d ok %v", tc.code, typ, level, ok)
		}
	}
	for _, code := range []int{0, 32, 100, 123, 200, 300} {
		if _, _, ok := registry.AlarmClass(code); ok {
			t.Errorf("alarm code %d accepted", code)
		}
	}
	for code, want := range map[int]int{1001: 1, 2001: 2, 3009: 3, 4008: 4, 5003: 5, 6001: 6, 7003: 7} {
		if typ, ok := registry.EventClass(code); !ok || typ != want {
			t.Errorf("event %d: type %d ok %v", code, typ, ok)
		}
	}
	for _, code := range []int{0, 1004, 2002, 3010, 8001} {
		if _, ok := registry.EventClass(code); ok {
			t.Errorf("event code %d accepted", code)
		}
	}
}
