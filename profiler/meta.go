package profiler

import (
	"bufio"
	"os"
	"reflect"
	"runtime"
	"strings"

	"golang.org/x/sys/cpu"

	"github.com/coroprof/coroprof/format"
)

// fillMeta records what the run was and where: everything a reader of the profile on
// another machine needs to judge its figures.
func fillMeta(m *format.Meta, sampleRate int) {
	if len(os.Args) > 0 {
		m.Program = os.Args[0]
		m.Args = append([]string(nil), os.Args[1:]...)
	}
	m.Host, _ = os.Hostname()
	m.GOOS = runtime.GOOS
	m.GOARCH = runtime.GOARCH
	m.GoVersion = runtime.Version()
	m.CPUModel = cpuModel()
	m.CPUFeatures = cpuFeatures()
	m.PID = int64(os.Getpid())
	m.SampleRate = sampleRate
}

// cpuModel reads the model name from /proc/cpuinfo ("model name" on x86, "Model" or
// "CPU part" elsewhere). Its "cpu MHz" line is deliberately not used: it is the current
// frequency of one core at one instant, not a rate anything here is measured in.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(k) {
		case "model name", "Model", "cpu model":
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// cpuFeatures lists the golang.org/x/sys/cpu flags that are set on this machine, by
// the name of their field without "Has" (AVX2, BMI2, ...). Reflection keeps the list
// complete as x/sys grows new flags.
func cpuFeatures() []string {
	var v reflect.Value
	switch runtime.GOARCH {
	case "amd64", "386":
		v = reflect.ValueOf(cpu.X86)
	case "arm64":
		v = reflect.ValueOf(cpu.ARM64)
	default:
		return nil
	}
	var out []string
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Type.Kind() == reflect.Bool && strings.HasPrefix(f.Name, "Has") && v.Field(i).Bool() {
			out = append(out, strings.TrimPrefix(f.Name, "Has"))
		}
	}
	return out
}
