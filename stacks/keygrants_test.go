package stacks

import (
	"fmt"
	"github.com/payments-dr/payments-dr/stacks/synthout"
	"slices"
	"strings"
	"testing"
)

// KMS grants in IAM policies. A key policy that does not delegate an action to the
// account (a statement for its root principal) makes every IAM grant of that action on
// the key dead: "Without permission from the key policy, IAM policies that allow
// permissions have no effect."
// https://docs.aws.amazon.com/kms/latest/developerguide/key-policies.html
//
// Our key policies delegate only administration to the account; use of a key is granted
// by the key policy itself, through a service (kms:ViaService), to the account's
// principals. So no IAM policy may grant a kms: action the key policy does not delegate,
// and no key policy may delegate use of the key to IAM, which would turn those grants
// into the only limit on who decrypts payments.

// kmsDataActions use a key for data; kms:* stands for all of them.
var kmsDataActions = []string{
	"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
	"kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:*",
}

// delegatedToIAM are the actions a key policy allows the account root, i.e. IAM policies.
func (j tf) delegatedToIAM(keyPolicy map[string]any) []string {
	var out []string
	for _, st := range list(keyPolicy["statement"]) {
		s := block(st)
		if s["effect"] != "Allow" {
			continue
		}
		for _, p := range list(s["principals"]) {
			pb := block(p)
			if pb["type"] != "AWS" {
				continue
			}
			for _, id := range strs(pb["identifiers"]) {
				if strings.HasPrefix(id, "arn:aws:iam::") && strings.HasSuffix(id, ":root") {
					out = append(out, strs(s["actions"])...)
				}
			}
		}
	}
	return out
}

func keyGrantFindings(j tf) []string {
	var out []string
	for name, k := range j.Resource["aws_kms_key"] {
		_, policy := j.resource(k["policy"])
		for _, a := range j.delegatedToIAM(policy) {
			if slices.Contains(kmsDataActions, a) {
				out = append(out, fmt.Sprintf("key %s delegates %s to IAM: IAM policies, not the key policy's per-service statements, would decide who may use it", name, a))
			}
		}
	}
	for pn, p := range j.Resource["aws_iam_role_policy"] {
		_, doc := j.resource(p["policy"])
		for _, st := range list(doc["statement"]) {
			s := block(st)
			if s["effect"] != "Allow" {
				continue
			}
			for _, a := range strs(s["actions"]) {
				if !strings.HasPrefix(a, "kms:") {
					continue
				}
				for _, r := range strs(s["resources"]) {
					typ, key := j.resource(r)
					if typ != "aws_kms_key" || key == nil {
						out = append(out, fmt.Sprintf("%s grants %s on %s, not on one of this stack's keys", pn, a, r))
						continue
					}
					_, policy := j.resource(key["policy"])
					if delegated := j.delegatedToIAM(policy); !slices.Contains(delegated, a) && !slices.Contains(delegated, "kms:*") {
						out = append(out, fmt.Sprintf("%s grants %s on %s, whose key policy does not delegate it to IAM: a dead grant", pn, a, r))
					}
				}
			}
		}
	}
	return out
}

// TestNoDeadKeyGrants runs the check on both stacks of the default configuration.
func TestNoDeadKeyGrants(t *testing.T) {
	for name, j := range map[string]tf{
		synthout.DRStackName:    parse(t, defaultDR),
		synthout.StateStackName: parse(t, readFile(t, synthout.StackFile(defaultOut, synthout.StateStackName))),
	} {
		t.Run(name, func(t *testing.T) {
			if len(j.Resource["aws_kms_key"]) == 0 {
				t.Fatal("no keys: nothing checked")
			}
			for _, f := range keyGrantFindings(j) {
				t.Error(f)
			}
		})
	}
}

func TestKeyGrantCheckCatchesMutations(t *testing.T) {
	// firstRolePolicy is some function role's inline policy document.
	firstRolePolicy := func(j tf) map[string]any {
		for _, fn := range j.Resource["aws_lambda_function"] {
			if doc, _ := j.rolePolicyOf(fn); doc != nil {
				return doc
			}
		}
		return nil
	}
	someKey := func(j tf) string {
		for name := range j.Resource["aws_kms_key"] {
			return "${aws_kms_key." + name + ".arn}"
		}
		return ""
	}
	assertCaught(t, []mutation{
		{"a function role granted kms:Decrypt", keyGrantFindings, func(t *testing.T, j tf) {
			doc := firstRolePolicy(j)
			doc["statement"] = append(list(doc["statement"]), map[string]any{"effect": "Allow", "actions": []any{"kms:Decrypt"}, "resources": []any{someKey(j)}})
		}, "a dead grant"},
		{"a function role granted kms:Decrypt on every key", keyGrantFindings, func(t *testing.T, j tf) {
			doc := firstRolePolicy(j)
			doc["statement"] = append(list(doc["statement"]), map[string]any{"effect": "Allow", "actions": []any{"kms:Decrypt"}, "resources": []any{"*"}})
		}, "not on one of this stack's keys"},
		{"key policy delegating use to IAM", keyGrantFindings, func(t *testing.T, j tf) {
			for _, k := range j.Resource["aws_kms_key"] {
				_, policy := j.resource(k["policy"])
				for _, st := range list(policy["statement"]) {
					if block(st)["sid"] == "AccountAdministersKey" {
						block(st)["actions"] = append(list(block(st)["actions"]), "kms:Decrypt")
					}
				}
			}
		}, "delegates kms:Decrypt to IAM"},
	})
}
