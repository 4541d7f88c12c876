// Package decimal appends integers in decimal to a byte slice, as strconv's
// AppendInt and AppendUint do, but writes the digits in place, two at a time,
// instead of through a buffer of their own: the reasons of a large group and
// the JSON bodies of the HTTP API hold thousands of numbers.
package decimal

import "math/bits"

// pairs holds "00" to "99".
const pairs = "00010203040506070809101112131415161718192021222324252627282930313233343536373839" +
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879" +
	"8081828384858687888990919293949596979899"

// pow10 holds the powers of ten that fit a uint64.
var pow10 = func() (t [20]uint64) {
	t[0] = 1
	for i := 1; i < len(t); i++ {
		t[i] = t[i-1] * 10
	}
	return t
}()

// AppendUint appends u in decimal to b.
func AppendUint(b []byte, u uint64) []byte {
	if u < 10 {
		return append(b, byte('0'+u))
	}
	n := (bits.Len64(u) * 1233) >> 12 // log10(u), or one less
	if n < len(pow10) && u >= pow10[n] {
		n++
	}
	l := len(b)
	if cap(b)-l < n {
		b = append(b, make([]byte, n)...)
	} else {
		b = b[:l+n]
	}
	i := l + n
	for u >= 100 {
		q := u / 100
		r := (u - q*100) * 2
		i -= 2
		b[i], b[i+1] = pairs[r], pairs[r+1]
		u = q
	}
	if u >= 10 {
		b[i-2], b[i-1] = pairs[u*2], pairs[u*2+1]
	} else {
		b[i-1] = byte('0' + u)
	}
	return b
}

// AppendInt appends v in decimal to b.
func AppendInt(b []byte, v int64) []byte {
	if v < 0 {
		return AppendUint(append(b, '-'), -uint64(v)) // the magnitude, also for math.MinInt64
	}
	return AppendUint(b, uint64(v))
}
