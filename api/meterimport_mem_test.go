package api_test

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// BenchmarkMeterImport64MB sends a 64 MB CSV of good rows (about 700,000
// meters) to the real handler as a dry run, generated as it is sent, and
// samples the server process's memory while it is read: the peak of heap
// objects and of all memory mapped from the OS above the baseline, and both
// again after a GC once the answer is in. Run with
//
//	go test ./api/ -run '^$' -bench MeterImport64MB -benchtime 1x
//
// (issue 16: the whole sheet was held, about 280 MB for 64 MB).
func BenchmarkMeterImport64MB(b *testing.B) {
	srv, _, admin, _ := reportsAPI(b)
	const size = 64<<20 - 1<<10
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/total:bytes"}}
	read := func() (heap, total uint64) {
		metrics.Read(samples)
		return samples[0].Value.Uint64(), samples[1].Value.Uint64()
	}
	for range b.N {
		runtime.GC()
		debug.FreeOSMemory()
		heap0, total0 := read()
		var peakHeap, peakTotal uint64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Go(func() {
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					h, t := read()
					peakHeap, peakTotal = max(peakHeap, h), max(peakTotal, t)
				}
			}
		})
		pr, pw := io.Pipe()
		go func() {
			_, _ = io.WriteString(pw, "meter_no,gateway,gateway_address,protocol,unit_address,profile,price,kind,prepaid_mode,ct_ratio,pt_ratio,alarm1,alarm2\n")
			written := 0
			for i := 0; ; i++ {
				g := i / 247
				line := fmt.Sprintf("MEM-%07d,MGW-%05d,10.%d.%d.1:502,modbus-tcp,%d,ref-prepaid-v1,1.2000,electricity,meter,1,1,10.00,5.00\n",
					i, g, g/250, g%250, i%247+1)
				if written+len(line) > size {
					break
				}
				n, err := io.WriteString(pw, line)
				written += n
				if err != nil {
					break
				}
			}
			_ = pw.Close()
		}()
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/projects/demo/meter-imports?dry_run=true", pr)
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "text/csv")
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		took := time.Since(start)
		close(stop)
		wg.Wait()
		runtime.GC()
		heap1, total1 := read()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("%d %.300s", resp.StatusCode, body)
		}
		mb := func(a, b uint64) float64 { return (float64(a) - float64(b)) / (1 << 20) }
		b.Logf("64 MB import in %v: %.200s", took.Round(time.Millisecond), body)
		b.Logf("peak above baseline: heap objects %+.1f MB, total mapped %+.1f MB; after GC: heap objects %+.1f MB, total mapped %+.1f MB",
			mb(peakHeap, heap0), mb(peakTotal, total0), mb(heap1, heap0), mb(total1, total0))
		b.ReportMetric(mb(peakHeap, heap0), "peak-heap-MB")
		b.ReportMetric(mb(peakTotal, total0), "peak-total-MB")
	}
}
