package config

import (
	"errors"
	"strings"
	"testing"
)

func TestStoragePrice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, price, top string
		want             float64 // -1: unset
		bad              string  // the variable an error must name
	}{
		{name: "unset", want: -1},
		{name: "a price", price: "0.07", want: 0.07},
		{name: "spaces", price: " 0.25 ", want: 0.25},
		{name: "zero", price: "0", want: 0},
		{name: "negative", price: "-1", bad: "STORAGE_PRICE_PER_GB_MONTH"},
		{name: "a comma", price: "0,07", bad: "STORAGE_PRICE_PER_GB_MONTH"},
		{name: "a currency", price: "$0.07", bad: "STORAGE_PRICE_PER_GB_MONTH"},
		{name: "not a number", price: "NaN", bad: "STORAGE_PRICE_PER_GB_MONTH"},
		{name: "infinite", price: "Inf", bad: "STORAGE_PRICE_PER_GB_MONTH"},
		{name: "no series", top: "0", want: -1, bad: "STORAGE_METRICS_TOP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{}
			if tc.price != "" {
				env["STORAGE_PRICE_PER_GB_MONTH"] = tc.price
			}
			if tc.top != "" {
				env["STORAGE_METRICS_TOP"] = tc.top
			}
			c, err := load(t, env)
			if tc.bad != "" {
				var ce *Error
				if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("err = %v, want a config error naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := c.Storage.PricePerGBMonth
			if (p == nil) != (tc.want < 0) || (p != nil && *p != tc.want) {
				t.Errorf("price = %v, want %v", p, tc.want)
			}
		})
	}
}
