#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date` header's value (RFC 9110 §5.6.7 IMF-fixdate: `Thu, 26 Nov 2026 10:00:00 GMT`),
/// formatted at most once per second per connection.
package struct HTTPDate {
    private var second: Int = .min
    private var cached = ""

    package init() {}

    /// The value for the wall clock's current second.
    package mutating func now() -> String {
        let current = time(nil)
        if current != second {
            second = current
            cached = Self.format(secondsSinceEpoch: Int64(current))
        }
        return cached
    }

    /// The value for a time in seconds since 1970 (UTC).
    package static func format(secondsSinceEpoch seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        guard gmtime_r(&time, &parts) != nil else { return "Thu, 01 Jan 1970 00:00:00 GMT" }
        let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
