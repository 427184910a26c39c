import ArgumentParser
import SessiondApp
import SessiondAPI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `sessiond healthcheck`: exits 0 when the local sessiond answers `GET /readyz` with 200, so a
/// container health check needs no curl.
struct HealthcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck",
        abstract: "Exit 0 when the local sessiond is ready (GET /readyz answers 200), 1 otherwise.",
        discussion: """
            Connects to the port sessiond listens on (--port, or SESSIOND_PORT, default 8080), on the address \
            of SESSIOND_HOST (127.0.0.1 when it is unset, 0.0.0.0 or localhost; ::1 for ::), and asks \
            GET /readyz. Prints why it failed on standard error. Numeric addresses only.
            """
    )

    @Option(help: "Port of the local sessiond (env: SESSIOND_PORT; default: 8080).") var port: Int?
    @Option(help: "Seconds to wait for the answer.") var timeout: Int = 2

    func run() throws {
        let environment = ProcessEnvironment.current
        // `sessiond` itself has a --port too, and the parser hands a --port after the subcommand
        // name to it; so the arguments are read here as well.
        let port = self.port ?? Self.portArgument() ?? environment["SESSIOND_PORT"].flatMap(Int.init) ?? 8080
        // A wildcard address is reached on loopback; a specific one (10.1.2.3) only there.
        let configured = environment["SESSIOND_HOST"] ?? ""
        let host: String
        switch configured {
        case "", "0.0.0.0", "localhost": host = "127.0.0.1"
        case "::", "[::]": host = "::1"
        default: host = configured.trimmingCharacters(in: ["[", "]"])
        }
        switch ReadinessProbe.check(host: host, port: port, timeoutSeconds: timeout) {
        case .ready:
            return
        case let .notReady(reason):
            var message = "sessiond healthcheck: \(reason)\n"
            message.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
            throw ExitCode(1)
        }
    }
}

extension HealthcheckCommand {
    /// The value of `--port N` or `--port=N` among the process arguments.
    static func portArgument() -> Int? {
        let arguments = CommandLine.arguments
        for (index, argument) in arguments.enumerated() {
            if argument == "--port", index + 1 < arguments.count { return Int(arguments[index + 1]) }
            if argument.hasPrefix("--port=") { return Int(argument.dropFirst("--port=".count)) }
        }
        return nil
    }
}

/// One blocking `GET /readyz` over a socket of its own (a short-lived command, no event loop).
enum ReadinessProbe {
    enum Outcome: Equatable {
        case ready
        case notReady(String)
    }

    static func check(host: String, port: Int, timeoutSeconds: Int) -> Outcome {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST
        var found: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &found) == 0, let address = found else {
            return .notReady("cannot use address \(host):\(port)")
        }
        defer { freeaddrinfo(found) }
        let descriptor = socket(address.pointee.ai_family, address.pointee.ai_socktype, address.pointee.ai_protocol)
        guard descriptor >= 0 else { return .notReady("cannot open a socket") }
        defer { close(descriptor) }
        var limit = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        guard connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) == 0 else {
            return .notReady("nothing answers on \(host):\(port)")
        }
        let request = Array("GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, 0) }) == request.count else {
            return .notReady("cannot send the request")
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while reply.count < 4096 {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            reply.append(contentsOf: chunk[0..<count])
            if reply.contains(UInt8(ascii: "\n")) { break }
        }
        let statusLine = String(decoding: reply.prefix { $0 != UInt8(ascii: "\r") }, as: UTF8.self)
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2 else { return .notReady("no HTTP answer from \(host):\(port)") }
        return parts[1] == "200" ? .ready : .notReady("GET /readyz answered \(parts.dropFirst().joined(separator: " "))")
    }
}
