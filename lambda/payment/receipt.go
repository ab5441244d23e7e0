package payment

import (
	"encoding/json"
	"strconv"
	"strings"
)

// receipt is the document stored at ReceiptKey. Every field comes from the
// stored record (never from the clock or the region serving the retry), so
// a receipt re-written by a replay in any region is byte-for-byte the same.
type receipt struct {
	Version     int    `json:"receiptVersion"`
	PaymentID   string `json:"paymentId"`
	Owner       string `json:"owner"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Display     string `json:"amountDisplay"`
	Reference   string `json:"reference,omitempty"`
	CreatedAt   string `json:"createdAt"`
	Region      string `json:"region"`
	RequestHash string `json:"requestHash"`
}

// Receipt renders the receipt document for a record.
func Receipt(r Record) []byte {
	b, _ := json.Marshal(receipt{ // plain strings and ints cannot fail to marshal
		Version:     2, // 2: payments have an owner
		PaymentID:   r.PaymentID,
		Owner:       r.Owner,
		Amount:      r.Amount,
		Currency:    r.Currency,
		Display:     FormatAmount(r.Amount, r.Currency),
		Reference:   r.Reference,
		CreatedAt:   r.CreatedAt,
		Region:      r.Region,
		RequestHash: r.RequestHash,
	})
	return append(b, '\n')
}

// FormatAmount renders minor units as a decimal string with the currency's
// number of decimal places, using integer arithmetic only.
func FormatAmount(minor int64, currency string) string {
	digits, ok := MinorUnitDigits(currency)
	if !ok {
		digits = 2
	}
	s, sign := strconv.FormatInt(minor, 10), ""
	if s[0] == '-' {
		s, sign = s[1:], "-"
	}
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	s = sign + s
	return s + " " + currency
}
