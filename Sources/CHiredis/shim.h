#ifndef SESSIOND_CHIREDIS_SHIM_H
#define SESSIOND_CHIREDIS_SHIM_H

#include <hiredis/hiredis.h>

/// The reader's error text, or NULL when it has none (redisReaderGetError is a macro).
static inline const char *chiredis_reader_error(redisReader *reader) {
    return reader->err ? reader->errstr : 0;
}

/// Lets the reader keep up to `bytes` of unread input buffered between reads before it shrinks
/// its buffer (hiredis 0.14: `maxbuf`, 16 KiB by default).
static inline void chiredis_reader_set_maxbuf(redisReader *reader, size_t bytes) {
    reader->maxbuf = bytes;
}

#endif
