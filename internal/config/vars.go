package config

import (
	"context"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Var describes one environment variable, for help output and validation.
type Var struct {
	Name    string
	Default string
	Help    string
	kind    reflect.Type
}

var durationType = reflect.TypeOf(time.Duration(0))

// Vars lists every variable retentiond reads, in declaration order.
func Vars() []Var {
	var out []Var
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Type.Kind() == reflect.Struct {
				walk(f.Type)
				continue
			}
			tag := f.Tag.Get("env")
			if tag == "" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			v := Var{Name: name, Help: f.Tag.Get("help"), kind: f.Type}
			for _, o := range strings.Split(opts, ",") {
				if d, ok := strings.CutPrefix(strings.TrimSpace(o), "default="); ok {
					v.Default = d
				}
			}
			out = append(out, v)
		}
	}
	walk(reflect.TypeOf(Config{}))
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
	switch {
	case v.kind == durationType:
		if _, err := time.ParseDuration(value); err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a duration; accepted: Go durations like 90s, 15m, 1h30m", value)}
		}
	case v.kind.Kind() == reflect.Bool:
		if _, err := strconv.ParseBool(value); err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a boolean; accepted: true, false (or 1, 0)", value)}
		}
	case v.kind.Kind() == reflect.Int, v.kind.Kind() == reflect.Int64:
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return "", true, &Error{Var: key, Msg: fmt.Sprintf("%q is not a whole number", value)}
		}
	}
	return value, false, nil
}
