#ifndef SESSIOND_CJANSSON_SHIM_H
#define SESSIOND_CJANSSON_SHIM_H

#include <jansson.h>

/// jansson's reference counting is done by inline functions and macros that Swift cannot
/// import reliably; these wrappers give them plain C signatures.
static inline void cjansson_decref(json_t *json) { json_decref(json); }
static inline json_t *cjansson_incref(json_t *json) { return json_incref(json); }

/// The `json_error_code` of a failed load (an inline function in jansson.h).
static inline int cjansson_error_code(const json_error_t *error) {
    return (int)json_error_code(error);
}

/// The type of a value (json_typeof is a macro).
static inline int cjansson_typeof(const json_t *json) { return (int)json_typeof(json); }

#endif
