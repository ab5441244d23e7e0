package payment

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseRejects(t *testing.T) {
	long := strings.Repeat("a", MaxIDLength+1)
	tests := []struct {
		name string
		body string
		code string
	}{
		{"empty body", ``, CodeInvalidJSON},
		{"not json", `paymentId=p1`, CodeInvalidJSON},
		{"array", `[{"paymentId":"p1"}]`, CodeInvalidJSON},
		{"string", `"p1"`, CodeInvalidJSON},
		{"null", `null`, CodeInvalidJSON},
		{"truncated", `{"paymentId":"p1","amount":1`, CodeInvalidJSON},
		{"trailing object", `{"paymentId":"p1","amount":1,"currency":"USD"}{}`, CodeInvalidJSON},
		{"trailing garbage", `{"paymentId":"p1","amount":1,"currency":"USD"} x`, CodeInvalidJSON},
		{"invalid utf-8", "{\"paymentId\":\"p1\",\"amount\":1,\"currency\":\"USD\",\"reference\":\"\xff\"}", CodeInvalidJSON},
		{"unknown field", `{"paymentId":"p1","amount":1,"currency":"USD","status":"processed"}`, CodeUnknownField},
		{"wrong-case field", `{"PaymentId":"p1","amount":1,"currency":"USD"}`, CodeUnknownField},
		{"duplicate field", `{"paymentId":"p1","amount":1,"amount":2,"currency":"USD"}`, CodeDuplicateField},
		{"missing paymentId", `{"amount":1,"currency":"USD"}`, CodeMissingField},
		{"null paymentId", `{"paymentId":null,"amount":1,"currency":"USD"}`, CodeMissingField},
		{"missing amount", `{"paymentId":"p1","currency":"USD"}`, CodeMissingField},
		{"missing currency", `{"paymentId":"p1","amount":1}`, CodeMissingField},
		{"empty paymentId", `{"paymentId":"","amount":1,"currency":"USD"}`, CodeInvalidPaymentID},
		{"long paymentId", `{"paymentId":"` + long + `","amount":1,"currency":"USD"}`, CodeInvalidPaymentID},
		{"paymentId with slash", `{"paymentId":"a/b","amount":1,"currency":"USD"}`, CodeInvalidPaymentID},
		{"paymentId with space", `{"paymentId":"a b","amount":1,"currency":"USD"}`, CodeInvalidPaymentID},
		{"numeric paymentId", `{"paymentId":123,"amount":1,"currency":"USD"}`, CodeInvalidPaymentID},
		{"float amount", `{"paymentId":"p1","amount":12.5,"currency":"USD"}`, CodeInvalidAmount},
		{"integral float amount", `{"paymentId":"p1","amount":12.0,"currency":"USD"}`, CodeInvalidAmount},
		{"exponent amount", `{"paymentId":"p1","amount":1e3,"currency":"USD"}`, CodeInvalidAmount},
		{"string amount", `{"paymentId":"p1","amount":"1250","currency":"USD"}`, CodeInvalidAmount},
		{"bool amount", `{"paymentId":"p1","amount":true,"currency":"USD"}`, CodeInvalidAmount},
		{"object amount", `{"paymentId":"p1","amount":{"value":1},"currency":"USD"}`, CodeInvalidAmount},
		{"zero amount", `{"paymentId":"p1","amount":0,"currency":"USD"}`, CodeInvalidAmount},
		{"negative amount", `{"paymentId":"p1","amount":-5,"currency":"USD"}`, CodeInvalidAmount},
		{"amount over max", `{"paymentId":"p1","amount":1000000001,"currency":"USD"}`, CodeInvalidAmount},
		{"amount over int64", `{"paymentId":"p1","amount":99999999999999999999,"currency":"USD"}`, CodeInvalidAmount},
		{"lowercase currency", `{"paymentId":"p1","amount":1,"currency":"usd"}`, CodeInvalidCurrency},
		{"long currency", `{"paymentId":"p1","amount":1,"currency":"USDD"}`, CodeInvalidCurrency},
		{"numeric currency", `{"paymentId":"p1","amount":1,"currency":840}`, CodeInvalidCurrency},
		{"unknown currency", `{"paymentId":"p1","amount":1,"currency":"XYZ"}`, CodeUnsupportedCurrency},
		{"long reference", `{"paymentId":"p1","amount":1,"currency":"USD","reference":"` + strings.Repeat("é", MaxReferenceLength+1) + `"}`, CodeInvalidReference},
		{"control char in reference", `{"paymentId":"p1","amount":1,"currency":"USD","reference":"a\nb"}`, CodeInvalidReference},
		{"numeric reference", `{"paymentId":"p1","amount":1,"currency":"USD","reference":7}`, CodeInvalidReference},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.body), DefaultMaxAmount)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse(%q) error = %v, want a ValidationError", tc.body, err)
			}
			if ve.Code != tc.code {
				t.Errorf("code = %q (%s), want %q", ve.Code, ve.Message, tc.code)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		body string
		max  int64
		want Request
	}{
		{"minimal", `{"paymentId":"p1","amount":1250,"currency":"USD"}`, DefaultMaxAmount,
			Request{PaymentID: "p1", Amount: 1250, Currency: "USD"}},
		{"reference and whitespace", " {\n \"reference\" : \"Invoice 42 — März\", \"currency\":\"EUR\",\"amount\":1,\"paymentId\":\"A-z_09\"}\n",
			DefaultMaxAmount, Request{PaymentID: "A-z_09", Amount: 1, Currency: "EUR", Reference: "Invoice 42 — März"}},
		{"null reference", `{"paymentId":"p1","amount":5,"currency":"JPY","reference":null}`, DefaultMaxAmount,
			Request{PaymentID: "p1", Amount: 5, Currency: "JPY"}},
		{"amount at max", `{"paymentId":"p1","amount":1000,"currency":"USD"}`, 1000,
			Request{PaymentID: "p1", Amount: 1000, Currency: "USD"}},
		{"longest id", `{"paymentId":"` + strings.Repeat("x", MaxIDLength) + `","amount":1,"currency":"USD"}`, DefaultMaxAmount,
			Request{PaymentID: strings.Repeat("x", MaxIDLength), Amount: 1, Currency: "USD"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse([]byte(tc.body), tc.max)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got != tc.want {
				t.Errorf("Parse = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestHashIgnoresEncoding(t *testing.T) {
	a, errA := Parse([]byte(`{"paymentId":"p1","amount":1250,"currency":"USD","reference":"r"}`), DefaultMaxAmount)
	b, errB := Parse([]byte(`{ "reference":"\u0072", "currency":"USD", "amount":1250, "paymentId":"p1" }`), DefaultMaxAmount)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if a.Hash() != b.Hash() {
		t.Error("equivalent bodies hash differently")
	}
	for _, other := range []Request{
		{PaymentID: "p1", Amount: 1251, Currency: "USD", Reference: "r"},
		{PaymentID: "p1", Amount: 1250, Currency: "EUR", Reference: "r"},
		{PaymentID: "p1", Amount: 1250, Currency: "USD"},
		{PaymentID: "p2", Amount: 1250, Currency: "USD", Reference: "r"},
	} {
		if other.Hash() == a.Hash() {
			t.Errorf("%+v hashes like %+v", other, a)
		}
	}
}

// FuzzParse checks that Parse never panics, that whatever it accepts is
// within the documented bounds, and that an accepted request survives a
// round trip through its canonical JSON with the same hash.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"paymentId":"p1","amount":1250,"currency":"USD"}`,
		`{"paymentId":"p1","amount":1250,"currency":"USD","reference":"inv 1"}`,
		`{"paymentId":"p1","amount":12.5,"currency":"USD"}`,
		`{"paymentId":"p1","amount":"1","currency":"USD"}`,
		`{"paymentId":"p1","amount":1,"amount":2,"currency":"USD"}`,
		`{"paymentId":"p1","amount":1,"currency":"USD"} {}`,
		`{"paymentId":"\u00e9","amount":-0,"currency":"JPY"}`,
		`[]`, `{`, ``, `null`, "{\"paymentId\":\"\xff\"}",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := Parse(body, DefaultMaxAmount)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Code == "" || ve.Message == "" {
				t.Fatalf("Parse returned %T %v, want a ValidationError with code and message", err, err)
			}
			return
		}
		if ValidateID(req.PaymentID) != nil || req.Amount < 1 || req.Amount > DefaultMaxAmount {
			t.Fatalf("accepted out-of-bounds request %+v", req)
		}
		if _, ok := MinorUnitDigits(req.Currency); !ok {
			t.Fatalf("accepted unsupported currency %q", req.Currency)
		}
		canonical, err := json.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(canonical, DefaultMaxAmount)
		if err != nil {
			t.Fatalf("canonical form %s of an accepted request is rejected: %v", canonical, err)
		}
		if again != req || again.Hash() != req.Hash() {
			t.Fatalf("round trip changed the request: %+v -> %+v", req, again)
		}
	})
}
