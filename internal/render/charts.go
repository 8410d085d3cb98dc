package render

import (
	"fmt"
	"sort"

	"github.com/go-echarts/go-echarts/v2/charts"
	"github.com/go-echarts/go-echarts/v2/opts"
)

// The charts are built with go-echarts and handed to the page as option objects (its
// JSON()), which the embedded echarts runtime draws; go-echarts' own page renderer is not
// used because it loads echarts from a CDN.

// Chart limits keep the page light whatever the input size.
const (
	topCoroutines     = 20    // bars in "top coroutines"
	timelineSlices    = 20000 // newest slices drawn in the timeline
	timelineLanes     = 40    // coroutines with a lane of their own; the rest share "other"
	timelineOtherLane = "other coroutines"
)

// chartOption returns a go-echarts chart's option object.
func chartOption(c interface {
	Validate()
	JSON() map[string]interface{}
}) map[string]interface{} {
	c.Validate()
	return c.JSON()
}

// coroLabel names a coroutine in charts and tables.
func coroLabel(name string, id uint64) string { return fmt.Sprintf("%s #%d", name, id) }

// whereChart: where the elapsed time went, in seconds (coroutines, scheduler, wait).
func (m model) whereChart() map[string]interface{} {
	run := m.Busy.Ticks() - min(m.Main.Ticks(), m.Busy.Ticks())
	pie := charts.NewPie()
	pie.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Title: "Where the time went", Subtitle: "seconds of the loop threads' elapsed ticks"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item", Formatter: "{b}: {c} s ({d}%)"}),
		charts.WithAnimation(false),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(true), Bottom: "0"}),
	)
	data := []opts.PieData{
		{Name: "coroutines (running)", Value: round6(m.Seconds(float64(run)))},
		{Name: "<main> (scheduler)", Value: round6(m.Seconds(float64(m.Main.Ticks())))},
		{Name: "<wait> (epoll_wait)", Value: round6(m.Seconds(float64(m.Wait.Ticks())))},
	}
	pie.AddSeries("time", data, charts.WithPieChartOpts(opts.PieChart{Radius: []string{"25%", "48%"}, Center: []string{"50%", "56%"}}),
		charts.WithLabelOpts(opts.Label{Show: opts.Bool(true), Formatter: "{d}%"}))
	return chartOption(pie)
}

func round6(f float64) float64 { return float64(int64(f*1e6+0.5)) / 1e6 }

// topChart: the coroutines with the most ticks, in seconds.
func (m model) topChart() map[string]interface{} {
	n := min(len(m.Coroutines), topCoroutines)
	names := make([]string, n)
	data := make([]opts.BarData, n)
	// Reversed so the biggest bar is on top of the horizontal chart.
	for i := 0; i < n; i++ {
		c := &m.Coroutines[n-1-i]
		names[i] = coroLabel(c.Name, c.ID)
		data[i] = opts.BarData{Value: round6(m.Seconds(float64(c.Ticks())))}
	}
	bar := charts.NewBar()
	bar.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Title: "Top coroutines by ticks", Subtitle: "seconds running"}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "axis"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithAnimation(false),
		charts.WithGridOpts(opts.Grid{Left: "35%", Right: "5%"}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "s"}),
	)
	bar.SetXAxis(names).XYReversal()
	bar.AddSeries("seconds", data)
	return chartOption(bar)
}

// timelineChart: the newest run slices as bars on one lane per coroutine. Each data
// item is [lane, start s, end s, ended]; the page supplies the custom series' renderItem
// (a JavaScript function cannot travel in JSON).
func (m model) timelineChart() map[string]interface{} {
	sl := m.Slices
	if len(sl) > timelineSlices {
		sl = sl[len(sl)-timelineSlices:]
	}
	busy := map[uint64]uint64{}
	for _, s := range sl {
		busy[s.Coro] += s.Ticks
	}
	ids := make([]uint64, 0, len(busy))
	for id := range busy {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if busy[ids[i]] != busy[ids[j]] {
			return busy[ids[i]] > busy[ids[j]]
		}
		return ids[i] < ids[j]
	})
	lane := map[uint64]int{}
	var lanes []string
	for i, id := range ids {
		if i == timelineLanes {
			lanes = append(lanes, timelineOtherLane)
		}
		if i >= timelineLanes {
			lane[id] = timelineLanes
			continue
		}
		lane[id] = i
		lanes = append(lanes, coroLabel(m.CoroName(id), id))
	}
	data := make([]opts.CustomData, len(sl))
	for i, s := range sl {
		data[i] = opts.CustomData{Value: []interface{}{lane[s.Coro], round9(s.Start), round9(s.End), s.Ended}}
	}
	c := charts.NewCustom()
	c.SetGlobalOptions(
		charts.WithTitleOpts(opts.Title{Title: "Timeline of run slices",
			Subtitle: fmt.Sprintf("seconds since start; the %d newest slices recorded by the ring (%d overwritten)", len(sl), m.SlicesDropped+uint64(len(m.Slices)-len(sl)))}),
		charts.WithTooltipOpts(opts.Tooltip{Show: opts.Bool(true), Trigger: "item"}),
		charts.WithLegendOpts(opts.Legend{Show: opts.Bool(false)}),
		charts.WithAnimation(false),
		charts.WithGridOpts(opts.Grid{Left: "25%", Right: "5%"}),
		charts.WithXAxisOpts(opts.XAxis{Type: "value", Name: "s", Scale: opts.Bool(true)}),
		charts.WithYAxisOpts(opts.YAxis{Type: "category", Data: lanes, Inverse: opts.Bool(true)}),
		charts.WithDataZoomOpts(opts.DataZoom{Type: "inside", XAxisIndex: []int{0}, FilterMode: "weakFilter"},
			opts.DataZoom{Type: "slider", XAxisIndex: []int{0}, FilterMode: "weakFilter"}),
	)
	c.AddSeries("slices", data)
	opt := chartOption(c)
	// Custom.Validate copies its (unset) x data over the axis; the x axis is numeric.
	return opt
}

func round9(f float64) float64 { return float64(int64(f*1e9+0.5)) / 1e9 }
