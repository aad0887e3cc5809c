package order

import (
	"fmt"

	"github.com/shopspring/decimal"
)

// Decimal is an exact decimal amount held as canonical text ("43.2",
// "0", "-1.05"). Money never passes through float64.
type Decimal string

// ParseDecimal parses decimal text as channels send it ("43.2000", "15.99",
// "1e2"). The empty string is zero.
func ParseDecimal(s string) (Decimal, error) {
	if s == "" {
		return "0", nil
	}
	d, err := decimal.NewFromString(s)
	if err != nil {
		return "", fmt.Errorf("decimal %q: %w", s, err)
	}
	return Decimal(d.String()), nil
}

// MustDecimal is ParseDecimal for constants in code and tests; it panics on
// bad input and must never see untrusted text.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

func (d Decimal) dec() decimal.Decimal {
	v, err := decimal.NewFromString(string(d))
	if err != nil {
		return decimal.Zero
	}
	return v
}

// String returns the canonical text; zero is "0".
func (d Decimal) String() string {
	if d == "" {
		return "0"
	}
	return string(d)
}

// Add returns d+e.
func (d Decimal) Add(e Decimal) Decimal { return Decimal(d.dec().Add(e.dec()).String()) }

// Mul returns d×n.
func (d Decimal) Mul(n int) Decimal {
	return Decimal(d.dec().Mul(decimal.NewFromInt(int64(n))).String())
}

// IsZero reports whether d is zero.
func (d Decimal) IsZero() bool { return d.dec().IsZero() }

// Cmp compares d and e: -1, 0 or +1.
func (d Decimal) Cmp(e Decimal) int { return d.dec().Cmp(e.dec()) }

// Round returns d rounded half away from zero to places decimals, as text
// with exactly that many places ("43.20").
func (d Decimal) Round(places int32) string { return d.dec().StringFixed(places) }
