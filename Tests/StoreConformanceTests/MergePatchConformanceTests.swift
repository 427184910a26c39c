import JSONDocument
import NIOCore
import NIOPosix
import SessionCore
import Testing

/// PATCH: RFC 7396 merge patches applied atomically by every store, with the same result bytes
/// (the Redis store merges in Lua on the text, the embedded store with jansson).
@Suite("Store conformance: merge patch")
struct MergePatchConformanceTests {
    let loop = MultiThreadedEventLoopGroup.singleton.next()
    let clock = ManualClock(start: SystemClock().now())
    let policy = LifetimePolicy()

    /// RFC 7396 Appendix A (those whose target and patch are objects), and what sessions hold.
    static let cases: [(target: String, patch: String, result: String)] = [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
        (#"{"a":"b"}"#, #"{}"#, #"{"a":"b"}"#),
        // Nested objects merge; members keep their place, new ones come last; arrays keep nulls.
        (#"{"x":1,"n":{"p":1,"q":{"r":[1,{"s":2}]}},"y":2}"#, #"{"n":{"q":{"r":null,"t":[null,{}]},"p":null},"z":{}}"#,
         #"{"x":1,"n":{"q":{"t":[null,{}]}},"y":2,"z":{}}"#),
        // Values are copied exactly: numbers, escapes, UTF-8, brackets inside strings.
        (#"{"big":9007199254740993,"tenth":0.1}"#, #"{"tiny":1e-7,"neg":-0.0,"s":"a\"}]{[\\,:\u0000","é":"日本"}"#,
         #"{"big":9007199254740993,"tenth":0.1,"tiny":1e-7,"neg":-0.0,"s":"a\"}]{[\\,:\u0000","é":"日本"}"#),
        (#"{"k\"ey":{"a":1},"k\\":2}"#, #"{"k\"ey":{"b":[]},"k\\":null}"#, #"{"k\"ey":{"a":1,"b":[]}}"#),
        (#"{"a":"{\"b\":1}"}"#, #"{"a":{"c":true}}"#, #"{"a":{"c":true}}"#),
    ]

    @Test(arguments: StoreUnderTest.allCases)
    func rfc7396AndExactValues(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        for (target, patch, result) in Self.cases {
            // Stored data is always the compact writer's output; so are patches.
            let session = Session.fresh(Self.compact(target), now: clock.now(), policy: policy)
            try await store.insert(session, on: loop).get()
            let outcome = try await store.update(session.id, dataPatch(Self.compact(patch)), if: .always, at: clock.now(), on: loop).get()
            let merged = try #require(outcome.session, "\(target) + \(patch)")
            #expect(String(decoding: merged.data, as: UTF8.self) == Self.compact(result), "\(target) + \(patch)")
            #expect(merged.version == 2)
            #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == merged)
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func randomPatchesMergeLikeJansson(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        var generator = SplitMix64(seed: 7)
        for round in 0..<150 {
            let target = Self.compact(RandomJSON.object(depth: 3, using: &generator))
            let patch = Self.compact(RandomJSON.object(depth: 3, nulls: true, using: &generator))
            let expected = JSONMergePatch.apply(Array(patch.utf8), to: Array(target.utf8))
            let session = Session.fresh(target, now: clock.now(), policy: policy)
            try await store.insert(session, on: loop).get()
            let outcome = try await store.update(session.id, dataPatch(patch), if: .always, at: clock.now(), on: loop).get()
            #expect(outcome.session?.data == expected, "round \(round): \(target) + \(patch)")
        }
    }

    @Test(arguments: StoreUnderTest.allCases)
    func patchesSetAndClearSubjectAndPermanence(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(subject: "user-1", now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        let keep = SessionPatch(data: nil, permanent: true, subject: .keep, maxDataBytes: 100)
        let kept = try #require(try await store.update(session.id, .patch(keep), if: .always, at: clock.now(), on: loop).get().session)
        #expect(kept.subject == Subject("user-1"))
        #expect(kept.permanent)
        #expect(kept.expiresAt == clock.now().adding(milliseconds: policy.permanent))
        #expect(kept.data == session.data)
        let clear = SessionPatch(data: nil, permanent: nil, subject: .set(nil), maxDataBytes: 100)
        let cleared = try #require(try await store.update(session.id, .patch(clear), if: .always, at: clock.now(), on: loop).get().session)
        #expect(cleared.subject == nil)
        #expect(cleared.permanent)
        #expect(cleared.version == 3)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func aMergedResultOverTheLimitWritesNothing(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(#"{"a":"\#(String(repeating: "x", count: 60))"}"#, now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        let big = dataPatch(#"{"b":"\#(String(repeating: "y", count: 60))"}"#, maxDataBytes: 100)
        #expect(try await store.update(session.id, big, if: .always, at: clock.now(), on: loop).get() == .dataTooLarge)
        #expect(try await store.load(session.id, at: clock.now(), on: loop).get() == session)
        // Removing a key to make room in the same patch is fine.
        let swap = dataPatch(#"{"a":null,"b":"\#(String(repeating: "y", count: 60))"}"#, maxDataBytes: 100)
        #expect(try await store.update(session.id, swap, if: .always, at: clock.now(), on: loop).get().session?.version == 2)
    }

    @Test(arguments: StoreUnderTest.allCases)
    func fiftyConcurrentPatchesOfOwnKeysAllLand(kind: StoreUnderTest) async throws {
        let store = kind.make(policy: policy, clock: clock)
        let session = Session.fresh(#"{}"#, now: clock.now(), policy: policy)
        try await store.insert(session, on: loop).get()
        let group = MultiThreadedEventLoopGroup.singleton
        let now = clock.now()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for index in 0..<50 {
                tasks.addTask {
                    let outcome = try await store.update(session.id, dataPatch(#"{"k\#(index)":\#(index)}"#), if: .always, at: now, on: group.next()).get()
                    #expect(outcome.session != nil)
                }
            }
            try await tasks.waitForAll()
        }
        let final = try #require(try await store.load(session.id, at: now, on: loop).get())
        let document = try JSONDocument.parse(final.data, maxDepth: 4)
        #expect(Set(document.value.keys) == Set((0..<50).map { "k\($0)" }))
        #expect(final.version == 51)
    }

    /// `text` as the compact writer prints it.
    static func compact(_ text: String) -> String {
        guard let document = try? JSONDocument.parse(Array(text.utf8), maxDepth: 64) else { return "invalid: \(text)" }
        return String(decoding: document.value.compactJSON(), as: UTF8.self)
    }
}

/// A small seeded generator, so a failing random case can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Random JSON texts with few distinct keys, so patches hit existing members often.
enum RandomJSON {
    static let keys = ["a", "b", "c", "k\\\"q", "é", "x y"]

    static func object(depth: Int, nulls: Bool = false, using generator: inout SplitMix64) -> String {
        let count = Int.random(in: 0...4, using: &generator)
        var members: [String: String] = [:]
        for _ in 0..<count {
            let key = keys.randomElement(using: &generator) ?? "a"
            members[key] = value(depth: depth - 1, nulls: nulls, using: &generator)
        }
        return "{" + members.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}"
    }

    static func value(depth: Int, nulls: Bool, using generator: inout SplitMix64) -> String {
        let choice = Int.random(in: 0..<(depth > 0 ? 9 : 6), using: &generator)
        switch choice {
        case 0: return nulls ? "null" : "true"
        case 1: return String(Int64.random(in: -1_000_000_000_000...1_000_000_000_000, using: &generator))
        case 2: return ["0.1", "1e-7", "-0.0", "2.5e+300", "9007199254740993"].randomElement(using: &generator) ?? "0"
        case 3: return ["\"\"", "\"s\"", "\"q\\\"}]\"", "\"\\u00e9\\n\"", "\"{\\\"a\\\":1}\""].randomElement(using: &generator) ?? "\"\""
        case 4: return "false"
        case 5: return nulls ? "null" : "[]"
        case 6, 7: return object(depth: depth, nulls: nulls, using: &generator)
        default: return "[" + value(depth: depth - 1, nulls: nulls, using: &generator) + ",null]"
        }
    }
}
