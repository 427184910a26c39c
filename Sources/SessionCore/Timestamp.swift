/// A point in wall-clock time with millisecond precision: milliseconds since the Unix epoch, UTC.
public struct Timestamp: Hashable, Comparable, Sendable {
    public let millisecondsSinceEpoch: Int64

    public init(millisecondsSinceEpoch: Int64) {
        self.millisecondsSinceEpoch = millisecondsSinceEpoch
    }

    /// This time plus `milliseconds` (which may be negative), saturating instead of overflowing.
    public func adding(milliseconds: Int64) -> Timestamp {
        let (sum, overflow) = millisecondsSinceEpoch.addingReportingOverflow(milliseconds)
        return Timestamp(millisecondsSinceEpoch: overflow ? (milliseconds > 0 ? .max : .min) : sum)
    }

    /// Milliseconds from `self` until `later` (negative when `later` is earlier).
    public func milliseconds(until later: Timestamp) -> Int64 {
        later.millisecondsSinceEpoch &- millisecondsSinceEpoch
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.millisecondsSinceEpoch < rhs.millisecondsSinceEpoch
    }
}
