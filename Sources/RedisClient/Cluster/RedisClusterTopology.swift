/// Which primary serves each hash slot of a Redis Cluster (from `CLUSTER SLOTS`), and which
/// nodes exist (primaries and replicas, to ask for the map next time). A value type: each event
/// loop keeps its own copy and patches it on `MOVED`.
public struct RedisClusterTopology: Sendable, Hashable {
    /// The primaries, in the order `CLUSTER SLOTS` first named them.
    public private(set) var primaries: [RedisNodeAddress]
    /// Every replica named, for asking for the map when primaries fail.
    public private(set) var replicas: [RedisNodeAddress]
    /// For each slot, its primary's index in `primaries`, or `unassigned`.
    private var owners: [UInt16]
    private static let unassigned = UInt16.max

    /// A map with no slot assigned.
    public init() {
        primaries = []
        replicas = []
        owners = Array(repeating: Self.unassigned, count: RedisClusterSlot.count)
    }

    /// Reads a `CLUSTER SLOTS` reply: an array of `[start, end, [host, port, id...], replica...]`.
    /// An empty host means the node that answered (`answeredBy`), as Redis documents.
    /// - Returns: nil when the reply is not that shape, or a slot range is out of 0..<16384.
    public init?(clusterSlots reply: RESPValue, answeredBy: RedisNodeAddress) {
        self.init()
        guard case let .array(ranges) = reply else { return nil }
        for range in ranges {
            guard case let .array(fields) = range, fields.count >= 3, let start = fields[0].int, let end = fields[1].int,
                  0 <= start, start <= end, end < RedisClusterSlot.count,
                  let primary = Self.node(fields[2], answeredBy: answeredBy)
            else { return nil }
            assign(Int(start)...Int(end), to: primary)
            for field in fields.dropFirst(3) {
                if let replica = Self.node(field, answeredBy: answeredBy), !replicas.contains(replica) { replicas.append(replica) }
            }
        }
        replicas.removeAll { primaries.contains($0) }
    }

    /// The primary of `slot`, or nil when no node serves it.
    public func primary(for slot: Int) -> RedisNodeAddress? {
        let owner = owners[slot]
        return owner == Self.unassigned ? nil : primaries[Int(owner)]
    }

    /// Whether every slot has a primary.
    public var coversAllSlots: Bool { !owners.contains(Self.unassigned) }

    /// Gives `slots` to `node` (a `MOVED` reply, or a range of `CLUSTER SLOTS`).
    public mutating func assign(_ slots: ClosedRange<Int>, to node: RedisNodeAddress) {
        let index: Int
        if let known = primaries.firstIndex(of: node) {
            index = known
        } else {
            index = primaries.count
            primaries.append(node)
            replicas.removeAll { $0 == node }
        }
        for slot in slots { owners[slot] = UInt16(index) }
    }

    /// The primaries of `self` that served slots but serve none in `newer` (a failover
    /// demoted them or they died, or all their slots were moved away).
    public func primariesReplaced(in newer: RedisClusterTopology) -> [RedisNodeAddress] {
        let serving = Set(owners)
        return primaries.indices
            .filter { serving.contains(UInt16($0)) && !newer.servesSlots(primaries[$0]) }
            .map { primaries[$0] }
    }

    /// Whether `node` is the primary of at least one slot.
    public func servesSlots(_ node: RedisNodeAddress) -> Bool {
        guard let index = primaries.firstIndex(of: node) else { return false }
        return owners.contains(UInt16(index))
    }

    private static func node(_ value: RESPValue, answeredBy: RedisNodeAddress) -> RedisNodeAddress? {
        guard case let .array(parts) = value, parts.count >= 2, let host = parts[0].string, let port = parts[1].int,
              (1...65_535).contains(port), host != "?"
        else { return nil }
        return RedisNodeAddress(host: host.isEmpty ? answeredBy.host : host, port: Int(port))
    }
}
