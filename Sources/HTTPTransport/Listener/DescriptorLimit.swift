import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open file descriptors (`ulimit -n`), which bounds how many
/// connections sessiond can hold whatever `--max-connections` says.
enum DescriptorLimit {
    /// Descriptors sessiond needs besides client connections: the listener, the event loops'
    /// own, Redis connections, standard streams, with room to spare.
    static let reserve = 64

    /// The soft limit now, or nil when it cannot be read or is unlimited.
    static func current() -> Int? {
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(limit.rlim_cur)
    }

    /// Raises the soft limit towards the hard one when `connections` (plus `reserve`) need
    /// more, and warns when they still do not fit: beyond the limit, accepts pause until
    /// connections close.
    static func warnIfBelow(connections: Int, logger: Logger) {
        let needed = connections + reserve
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0, limit.rlim_cur != rlim_t.max, Int(limit.rlim_cur) < needed else { return }
        let raised = limit.rlim_max == rlim_t.max ? rlim_t(needed) : min(rlim_t(needed), limit.rlim_max)
        if raised > limit.rlim_cur {
            var wanted = limit
            wanted.rlim_cur = raised
            if setrlimit(resource, &wanted) == 0 {
                logger.info("raised the descriptor limit", metadata: ["from": "\(limit.rlim_cur)", "to": "\(raised)"])
                limit.rlim_cur = raised
            }
        }
        guard Int(limit.rlim_cur) < needed else { return }
        logger.warning(
            "--max-connections \(connections) exceeds what the descriptor limit of \(limit.rlim_cur) (ulimit -n) allows: beyond about \(max(Int(limit.rlim_cur) - reserve, 0)) connections, new ones wait until others close; raise the limit or lower --max-connections",
            metadata: ["max_connections": "\(connections)", "descriptor_limit": "\(limit.rlim_cur)"]
        )
    }

    #if canImport(Glibc)
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    private static let resource = RLIMIT_NOFILE
    #endif
}
