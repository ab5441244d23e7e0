package payment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode"
	"unicode/utf8"
)

const (
	// DefaultMaxAmount caps a single payment (in minor units) when the
	// deployment does not set its own limit.
	DefaultMaxAmount int64 = 1_000_000_000
	// MaxIDLength and MaxReferenceLength bound what a client can make us
	// store, hash and log.
	MaxIDLength        = 64
	MaxReferenceLength = 140
)

// Error codes a client can see in a 400 answer. They are part of the API.
const (
	CodeInvalidJSON         = "invalid_json"
	CodeUnknownField        = "unknown_field"
	CodeDuplicateField      = "duplicate_field"
	CodeMissingField        = "missing_field"
	CodeInvalidPaymentID    = "invalid_payment_id"
	CodeInvalidAmount       = "invalid_amount"
	CodeInvalidCurrency     = "invalid_currency"
	CodeUnsupportedCurrency = "unsupported_currency"
	CodeInvalidReference    = "invalid_reference"
)

// ValidationError is a client mistake: the message is safe to show the
// client and never echoes more than a short, quoted field name.
type ValidationError struct {
	Code    string
	Message string
}

func (e *ValidationError) Error() string { return e.Code + ": " + e.Message }

func invalid(code, format string, args ...any) *ValidationError {
	return &ValidationError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ValidateID checks a paymentId: it becomes a table key and part of an S3
// object key, so only a small, path-safe alphabet is allowed.
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLength {
		return invalid(CodeInvalidPaymentID, "paymentId must be 1 to %d characters", MaxIDLength)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return invalid(CodeInvalidPaymentID, "paymentId may contain only A-Z, a-z, 0-9, '_' and '-'")
		}
	}
	return nil
}

var knownFields = map[string]bool{"paymentId": true, "amount": true, "currency": true, "reference": true}

// Parse decodes and validates a POST /payments body. It walks the object
// token by token rather than decoding into a struct because encoding/json
// would silently accept duplicate keys (last one wins) and match keys
// case-insensitively; for money, two parsers must never disagree on what a
// body means. maxAmount is the largest accepted amount in minor units.
func Parse(body []byte, maxAmount int64) (Request, error) {
	fields, err := readObject(body)
	if err != nil {
		return Request{}, err
	}
	var req Request
	if req.PaymentID, err = stringField(fields, "paymentId", CodeInvalidPaymentID, true); err != nil {
		return Request{}, err
	}
	if err := ValidateID(req.PaymentID); err != nil {
		return Request{}, err
	}
	if req.Amount, err = amountField(fields["amount"], maxAmount); err != nil {
		return Request{}, err
	}
	if req.Currency, err = stringField(fields, "currency", CodeInvalidCurrency, true); err != nil {
		return Request{}, err
	}
	if err := validateCurrency(req.Currency); err != nil {
		return Request{}, err
	}
	if req.Reference, err = stringField(fields, "reference", CodeInvalidReference, false); err != nil {
		return Request{}, err
	}
	if err := validateReference(req.Reference); err != nil {
		return Request{}, err
	}
	return req, nil
}

// readObject returns the raw values of a single top-level JSON object,
// rejecting unknown and repeated keys and anything after the object.
func readObject(body []byte) (map[string]json.RawMessage, error) {
	if !utf8.Valid(body) {
		return nil, invalid(CodeInvalidJSON, "body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid(CodeInvalidJSON, "body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalid(CodeInvalidJSON, "body must be a JSON object")
	}
	fields := make(map[string]json.RawMessage, len(knownFields))
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, invalid(CodeInvalidJSON, "body is not valid JSON")
		}
		key, _ := tok.(string) // inside an object the decoder only yields string keys
		if !knownFields[key] {
			return nil, invalid(CodeUnknownField, "unknown field %s", quoteShort(key))
		}
		if _, dup := fields[key]; dup {
			return nil, invalid(CodeDuplicateField, "field %q appears more than once", key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, invalid(CodeInvalidJSON, "body is not valid JSON")
		}
		fields[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return nil, invalid(CodeInvalidJSON, "body is not valid JSON")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid(CodeInvalidJSON, "unexpected data after the JSON object")
	}
	return fields, nil
}

// quoteShort quotes a client-supplied name for an error message, cut short so
// that an error answer cannot be used to reflect a large payload.
func quoteShort(s string) string {
	const limit = 40
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "..."
	}
	return strconv.Quote(s)
}

func isNull(raw json.RawMessage) bool { return raw == nil || string(raw) == "null" }

// stringField reads a string-valued field; null counts as absent.
func stringField(fields map[string]json.RawMessage, name, code string, required bool) (string, error) {
	raw := fields[name]
	if isNull(raw) {
		if required {
			return "", invalid(CodeMissingField, "%s is required", name)
		}
		return "", nil
	}
	var s string
	if raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", invalid(code, "%s must be a string", name)
	}
	return s, nil
}

// amountField accepts only a bare JSON integer. 12.5, 1e3 and "1250" are all
// refused rather than rounded or coerced: the client must say exactly how
// many minor units it means.
func amountField(raw json.RawMessage, maxAmount int64) (int64, error) {
	if isNull(raw) {
		return 0, invalid(CodeMissingField, "amount is required")
	}
	digits := raw
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return 0, invalid(CodeInvalidAmount, "amount must be an integer number of minor units")
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, invalid(CodeInvalidAmount, "amount must be an integer number of minor units")
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n < 1 || n > maxAmount {
		return 0, invalid(CodeInvalidAmount, "amount must be between 1 and %d minor units", maxAmount)
	}
	return n, nil
}

func validateCurrency(c string) error {
	if len(c) != 3 || !isUpperAlpha(c) {
		return invalid(CodeInvalidCurrency, "currency must be a three-letter uppercase ISO 4217 code")
	}
	if _, ok := currencies[c]; !ok {
		return invalid(CodeUnsupportedCurrency, "currency %s is not supported", c)
	}
	return nil
}

func isUpperAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// validateReference keeps the free-text reference printable: it lands in
// receipts and statements, where control characters cause trouble.
func validateReference(ref string) error {
	if utf8.RuneCountInString(ref) > MaxReferenceLength {
		return invalid(CodeInvalidReference, "reference must be at most %d characters", MaxReferenceLength)
	}
	for _, r := range ref {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return invalid(CodeInvalidReference, "reference must not contain control characters")
		}
	}
	return nil
}

// Hash identifies what a request asks for, independent of key order,
// whitespace or escaping in the body it came from: two bodies with the same
// meaning are the same request, and anything else is a conflicting reuse.
func (r Request) Hash() string {
	canonical, _ := json.Marshal(r) // a struct of strings and an int cannot fail
	sum := sha256.Sum256(append([]byte("payment-request/v1\n"), canonical...))
	return hex.EncodeToString(sum[:])
}
