package sessiond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sessiond/sessiond/clients/go/internal/mergepatch"
)

// UpdateRetries is how often Update re-applies a whole-data write when other requests keep
// writing the session in between.
const UpdateRetries = 5

// Update writes what changed from read (the session as this request read it) to want (the
// same session as the request leaves it: Data, Permanent, Subject and Lifetime; want.SID
// and the other fields are ignored), and returns the session as written, or nil when nothing
// changed.
//
// It sends one atomic merge patch (PATCH) of the top-level keys that were set, changed
// (nested objects as their own merge patch) or removed (null), and of permanent, subject
// and lifetime when they changed; so two concurrent requests of one user that change
// different keys both keep their change. A change that a merge patch cannot say (storing a
// null, which a merge patch reads as "remove", or an object holding one) is written with PUT
// and If-Match on the version read, re-applied to the current state when another request
// wrote in between (at most UpdateRetries times). Like every write it fails with ErrNotFound
// when the session is gone: it never brings back a session that was logged out.
func (c *Client) Update(ctx context.Context, read, want *Session) (*Session, error) {
	if read == nil || read.SID == "" || want == nil {
		return nil, errors.New("sessiond: Update needs the session as read, with its sid")
	}
	dataPatch, ok := mergepatch.Diff(read.Data, want.Data)
	if !ok {
		return c.replaceRebased(ctx, read, want)
	}
	doc := map[string]interface{}{}
	if len(dataPatch) > 0 {
		doc["data"] = dataPatch
	}
	if want.Permanent != read.Permanent {
		doc["permanent"] = want.Permanent
	}
	if want.Subject != read.Subject {
		if want.Subject == "" {
			doc["subject"] = nil
		} else {
			doc["subject"] = want.Subject
		}
	}
	if want.Lifetime != read.Lifetime {
		if want.Lifetime == 0 {
			doc["lifetime"] = nil
		} else {
			seconds, err := lifetimeSeconds(want.Lifetime)
			if err != nil {
				return nil, err
			}
			doc["lifetime"] = seconds
		}
	}
	if len(doc) == 0 {
		return nil, nil
	}
	return c.PatchDocument(ctx, read.SID, doc)
}

func (c *Client) replaceRebased(ctx context.Context, read, want *Session) (*Session, error) {
	changed := map[string]json.RawMessage{}
	for key, value := range want.Data {
		if old, had := read.Data[key]; !had || !mergepatch.Equal(old, value) {
			changed[key] = value
		}
	}
	var removed []string
	for key := range read.Data {
		if _, ok := want.Data[key]; !ok {
			removed = append(removed, key)
		}
	}
	base := read
	for attempt := 0; attempt <= UpdateRetries; attempt++ {
		data := make(map[string]json.RawMessage, len(base.Data)+len(changed))
		for key, value := range base.Data {
			data[key] = value
		}
		for _, key := range removed {
			delete(data, key)
		}
		for key, value := range changed {
			data[key] = value
		}
		p := ReplaceParams{Data: data, Permanent: base.Permanent, Subject: base.Subject, Lifetime: base.Lifetime}
		if want.Permanent != read.Permanent {
			p.Permanent = want.Permanent
		}
		if want.Subject != read.Subject {
			p.Subject = want.Subject
		}
		if want.Lifetime != read.Lifetime {
			p.Lifetime = want.Lifetime
		}
		written, err := c.Replace(ctx, read.SID, p, IfVersion(base.Version))
		if !errors.Is(err, ErrPreconditionFailed) {
			return written, err
		}
		if base, err = c.Get(ctx, read.SID); err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("sessiond: the session kept changing while this request saved it (%d attempts)", UpdateRetries+1)
}
