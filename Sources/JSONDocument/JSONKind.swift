/// The kind of a JSON value, as jansson classifies it.
public enum JSONKind: Sendable, Hashable {
    case object
    case array
    case string
    /// A number without fraction or exponent that fits in 64 bits.
    case integer
    /// A number with a fraction or an exponent, held as a double.
    case real
    case bool
    case null
}
