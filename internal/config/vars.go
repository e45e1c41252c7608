package config

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/retentiond/retentiond/policy"
)

// Var describes one environment variable, for help output and validation.
type Var struct {
	Name    string
	Default string
	Help    string
	kind    reflect.Type
	size    bool // a size in the policy's units (unit:"size")
}

var durationType = reflect.TypeOf(time.Duration(0))

// Vars lists the variables of the concerns named (every variable
// retentiond reads when none is), in the order help prints them. It reads
// the same struct tags that Load does, so a command's help lists exactly
// what it loads.
func Vars(only ...Concern) []Var {
	if len(only) == 0 {
		only = All()
	}
	want := map[Concern]bool{}
	for _, cn := range only {
		want[cn] = true
	}
	var out []Var
	for _, cc := range concerns {
		if !want[cc.c] {
			continue
		}
		t := reflect.TypeOf(cc.field(&Config{})).Elem()
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("env")
			if tag == "" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" {
				continue // not a variable: a value parsed from others (GitHub.AppKey)
			}
			v := Var{Name: name, Help: f.Tag.Get("help"), kind: f.Type, size: f.Tag.Get("unit") == "size"}
			for _, o := range strings.Split(opts, ",") {
				if d, ok := strings.CutPrefix(strings.TrimSpace(o), "default="); ok {
					v.Default = d
				}
			}
			out = append(out, v)
		}
	}
	return out
}

var varsByName = func() map[string]Var {
	m := map[string]Var{}
	for _, v := range Vars() {
		m[v.Name] = v
	}
	return m
}()

// checkValue runs before go-envconfig converts a value, so a bad one is
// reported by variable name with what it accepts. Secrets are never echoed.
func checkValue(_ context.Context, key, _, _, value string) (string, bool, error) {
	v, ok := varsByName[key]
	if !ok {
		return value, false, nil
	}
	value = strings.TrimSpace(value)
	kind := v.kind
	if kind.Kind() == reflect.Pointer {
		kind = kind.Elem()
	}
	switch {
	case kind == durationType:
		// The policy's grammar, so that 7d means the same here as there;
		// handed on to go-envconfig in Go's.
		d, err := policy.ParseDuration(value)
		if err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a duration (%v); accepted: 90s, 15m, 1h30m, 36h, 7d, 2w", value, err)}
		}
		return d.String(), true, nil
	case v.size:
		// A plain number of bytes is still accepted: it was the only form
		// before sizes took the policy's units.
		if _, err := strconv.ParseInt(value, 10, 64); err == nil {
			return value, true, nil
		}
		n, err := policy.ParseSize(value)
		if err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a size (%v); accepted: 500MB, 10GiB, 1TB, or a number of bytes", value, err)}
		}
		return strconv.FormatInt(n, 10), true, nil
	case kind.Kind() == reflect.Bool:
		if _, err := strconv.ParseBool(value); err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a boolean; accepted: true, false (or 1, 0)", value)}
		}
	case kind.Kind() == reflect.Float64:
		if f, err := strconv.ParseFloat(value, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a number; write it with a dot, like 0.07", value)}
		}
	case kind.Kind() == reflect.Int, kind.Kind() == reflect.Int64:
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a whole number", value)}
		}
	}
	return value, false, nil
}
