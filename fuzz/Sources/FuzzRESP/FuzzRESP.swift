// The RESP reply parser (RESPParser on hiredis' reader) and its channel decoder
// (RESPReplyDecoder in a ByteToMessageHandler) on arbitrary byte streams. The first input byte
// picks how the rest is cut into chunks (0: one byte at a time). Properties:
// - no crash, whatever the bytes and however they are cut; a broken stream is a thrown
//   `RedisClientError.protocolError`, after which nothing more is read;
// - the replies, and whether the stream broke, are the same fed whole, fed in chunks, and
//   through the decoder on an EmbeddedChannel (in up to three reads); and they are the ones the
//   reference reader (FuzzSupport/ReferenceRESP) finds.
import FuzzSupport
import NIOCore
import NIOEmbedded
import RedisClient

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let input = Array(UnsafeRawBufferPointer(start: start, count: count))
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())
    // hiredis 0.14 allocates an array's element table when it reads the length (16 GiB for
    // `*2147483647`) and walks all of it when a reader is freed with the array unfinished: a
    // trait of the C library with a trusted peer (see fuzz/README.md), and seconds per input
    // here. Such streams are left out (-1: not added to the corpus) so the time goes to parsing.
    guard ReferenceRESP.largestArrayLength(stream) <= 1 << 16 else { return -1 }
    var sizes = ChunkSizes(seed: seed)
    let pieces = chunks(stream[...], sizes: &sizes)

    let reference = ReferenceRESP.parse(stream)
    let expected = reference.replies.map(convert)

    let whole = parse([stream[...]])
    require(whole.replies == expected && whole.broken == reference.broken,
            "fed whole: \(whole) but the reference reads \(expected), broken \(reference.broken), from \(show(stream))")
    let split = parse(pieces)
    require(split.replies == whole.replies && split.broken == whole.broken,
            "fed in \(pieces.count) chunks: \(split), whole: \(whole), from \(show(stream))")
    // Through NIO (slow in a debug build) in at most three reads, cut where the first pieces end.
    let cuts = pieces.prefix(2).map(\.endIndex)
    let reads = zip([stream.startIndex] + cuts, cuts + [stream.endIndex]).map { stream[$0..<$1] }
    let decoded = decode(reads)
    require(decoded.replies == whole.replies && decoded.broken == whole.broken,
            "through the channel decoder: \(decoded), whole: \(whole), from \(show(stream))")
    return 0
}

/// The reference's reply as the `RESPValue` the parser should give.
func convert(_ reply: ReferenceRESP.Reply) -> RESPValue {
    switch reply {
    case let .simpleString(bytes): return .simpleString(String(decoding: bytes, as: UTF8.self))
    case let .error(bytes): return .error(String(decoding: bytes, as: UTF8.self))
    case let .integer(value): return .integer(value)
    case let .bulkString(bytes): return .bulkString(bytes)
    case let .array(elements): return .array(elements.map(convert))
    case .null: return .null
    }
}

struct Outcome: CustomStringConvertible {
    var replies: [RESPValue] = []
    var broken = false
    var description: String { "\(replies), broken \(broken)" }
}

func parse(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
    var outcome = Outcome()
    let parser: RESPParser
    do { parser = try RESPParser() } catch { fatalError("no parser: \(error)") }
    do {
        for piece in pieces {
            try feed(parser, piece)
            while let reply = try parser.next() { outcome.replies.append(reply) }
        }
    } catch {
        guard (error as? RedisClientError)?.code == .protocolError else {
            fatalError("fuzz property violated: \(error) is not a protocol error")
        }
        outcome.broken = true
        // A broken parser stays broken.
        do {
            try feed(parser, [UInt8(ascii: "+"), 0x0D, 0x0A])
            fatalError("fuzz property violated: a broken parser took more bytes")
        } catch {}
    }
    return outcome
}

/// Feeds `piece` from a buffer of exactly its size (so that AddressSanitizer sees any read past
/// it), without a typed-throws closure (Swift 6.3's IRGen crashes on one in Swift 5 mode).
func feed(_ parser: RESPParser, _ piece: ArraySlice<UInt8>) throws {
    guard !piece.isEmpty else { return }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: piece.count, alignment: 1)
    defer { buffer.deallocate() }
    buffer.copyBytes(from: piece)
    try parser.feed(UnsafeRawBufferPointer(buffer))
}

func decode(_ pieces: [ArraySlice<UInt8>]) -> Outcome {
    var outcome = Outcome()
    let channel = EmbeddedChannel()
    defer { _ = try? channel.finish() }
    do {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(try RESPReplyDecoder()))
    } catch {
        fatalError("no decoder: \(error)")
    }
    for piece in pieces {
        do {
            try channel.writeInbound(ByteBuffer(bytes: piece))
        } catch {
            outcome.broken = true
        }
        while let reply = try? channel.readInbound(as: RESPValue.self) { outcome.replies.append(reply) }
        if outcome.broken { break }
    }
    return outcome
}
