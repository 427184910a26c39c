import SessionCore

/// The `Date` header's value (RFC 9110 §5.6.7 IMF-fixdate: `Thu, 26 Nov 2026 10:00:00 GMT`),
/// computed at most once per second per connection.
struct HTTPDate {
    private var second: Int64 = .min
    private var cached = ""

    /// The value for `now`.
    mutating func value(at now: Timestamp) -> String {
        let current = now.millisecondsSinceEpoch / 1000
        if current != second {
            second = current
            cached = Self.format(secondsSinceEpoch: current)
        }
        return cached
    }

    static func format(secondsSinceEpoch seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Timestamp.civil(fromDays: days)
        let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let weekday = weekdays[Int(((days % 7) + 7) % 7)]
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekday), \(two(day)) \(months[Int(month - 1)]) \(year) \(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
