// Package mergepatch computes the RFC 7396 merge patch that turns one session's data into
// another, top-level key by key, for the middleware and the gorilla store.
package mergepatch

import (
	"bytes"
	"encoding/json"
)

// Diff returns the members of a merge patch of "data" that turn old into new (nil values
// remove keys), and false when no merge patch can say it: a value that is null, or an object
// with a null member, since a merge patch's null means "remove". The caller then writes the
// whole data instead. Keys whose JSON text did not change are left out.
func Diff(old, new map[string]json.RawMessage) (map[string]interface{}, bool) {
	patch := map[string]interface{}{}
	for key := range old {
		if _, ok := new[key]; !ok {
			patch[key] = nil
		}
	}
	for key, value := range new {
		previous, had := old[key]
		if had && Equal(previous, value) {
			continue
		}
		member, ok := memberPatch(previous, value)
		if !ok {
			return nil, false
		}
		if member != nil {
			patch[key] = member
		}
	}
	return patch, true
}

// Equal compares two JSON texts byte for byte once compacted.
func Equal(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// memberPatch is what a merge patch says for one member that changed from old (nil when
// absent) to new: nil when nothing is to be said, false when a merge patch cannot say it.
func memberPatch(old, new json.RawMessage) (json.RawMessage, bool) {
	kind := kindOf(new)
	if kind == 'n' {
		return nil, false
	}
	if kind == '{' && kindOf(old) == '{' {
		var o, n map[string]json.RawMessage
		if json.Unmarshal(old, &o) != nil || json.Unmarshal(new, &n) != nil {
			return nil, false
		}
		diff, ok := Diff(o, n)
		if !ok {
			return nil, false
		}
		if len(diff) == 0 {
			return nil, true // the same members in another order
		}
		raw, err := json.Marshal(diff)
		if err != nil {
			return nil, false
		}
		return raw, true
	}
	if kind == '{' && HasNullMember(new) {
		return nil, false
	}
	return new, true
}

// HasNullMember reports whether an object has a null member at any depth of objects (arrays
// replace whole in a merge patch, so nulls inside them are kept).
func HasNullMember(raw json.RawMessage) bool {
	if kindOf(raw) != '{' {
		return false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(raw, &members) != nil {
		return true
	}
	for _, v := range members {
		if kindOf(v) == 'n' || HasNullMember(v) {
			return true
		}
	}
	return false
}

// kindOf is the first byte of a JSON text ('{', '[', '"', 'n', 't', 'f' or a digit or '-'),
// 0 for none.
func kindOf(raw json.RawMessage) byte {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		return c
	}
	return 0
}

// Marshal is json.Marshal without HTML escaping (Sessiond keeps "<" as it is, so the text
// read back is the text written, and an unchanged value is seen as unchanged).
func Marshal(v interface{}) (json.RawMessage, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
