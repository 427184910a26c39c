package sessiond

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
)

// NewSID mints a session id for CreateParams.SID: a random version 4 UUID in lowercase
// canonical form, from crypto/rand, the only form Sessiond accepts there.
//
// Pass only ids minted this way by your own code, NEVER an id read from a cookie, a header or
// any other part of a request: creating a session under an id the client chose is session
// fixation (an attacker plants a cookie with an id of their choosing, the victim logs in under
// it, and the attacker holds the victim's session).
func NewSID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("sessiond: crypto/rand failed: " + err.Error())
	}
	return FormatUUIDv4(b)
}

// FormatUUIDv4 writes 16 bytes as a version 4 UUID (RFC 9562 variant), setting the version
// and variant bits.
func FormatUUIDv4(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}

// ValidSID reports whether s has the form of a sid Sessiond issues: a lowercase canonical
// UUID. Cookie values of another form are never sent to Sessiond.
func ValidSID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// HandleFor is the handle Sessiond lists a session under in its subject's sessions: the
// first 16 bytes of SHA-256 over "sessiond-handle-v1:" and the sid, in lowercase hex. It
// names the session for RevokeHandle and RevokeSubject's exceptHandle, and cannot be turned
// back into the sid, so it may be shown to users and logged.
func HandleFor(sid string) string {
	sum := sha256.Sum256([]byte("sessiond-handle-v1:" + sid))
	return hex.EncodeToString(sum[:16])
}
