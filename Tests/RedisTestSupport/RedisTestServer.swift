import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real `redis-server` on a free loopback port, started for tests and stopped with them.
///
/// Started with no persistence and the DEBUG command enabled (for slow-reply tests). Tests fail,
/// never skip, when `redis-server` is not installed (scripts/setup installs it).
public final class RedisTestServer: @unchecked Sendable {
    // @unchecked: `process` changes only in start/stop/restart, which tests call from one task.
    public let port: Int
    /// Extra redis-server arguments (e.g. `--requirepass`).
    public let extraArguments: [String]
    /// The certificates of a TLS-only server, or nil for plain TCP.
    public let certificates: TestCertificates?
    private let requireClientCertificates: Bool
    private var process: Process?

    public struct StartError: Error, CustomStringConvertible {
        public let description: String
    }

    /// One server shared by every test of this process, stopped at exit.
    public static let shared: RedisTestServer = {
        do {
            return try RedisTestServer().killedAtExit()
        } catch {
            fatalError("cannot start redis-server for the tests: \(error)")
        }
    }()
    nonisolated(unsafe) private static var killAtExit: [RedisTestServer] = []

    /// Kills this server when the test process exits (for servers shared by many tests, which
    /// are never deinitialised). Call from one thread at a time (static initialisers are).
    public func killedAtExit() -> RedisTestServer {
        if Self.killAtExit.isEmpty {
            atexit { for server in RedisTestServer.killAtExit { server.signal(SIGKILL, wait: false) } }
        }
        Self.killAtExit.append(self)
        return self
    }

    /// Starts a new server on a free port and waits until it accepts connections.
    /// - Throws: `StartError` when redis-server is missing or does not come up within 5 s.
    public init(arguments: [String] = []) throws {
        port = try Self.freePort()
        extraArguments = arguments
        certificates = nil
        requireClientCertificates = false
        try start()
    }

    /// Starts a server that speaks TLS only, with `certificates`' server certificate.
    /// - Parameter requireClientCertificates: true to refuse clients without a certificate of
    ///   the test CA (mutual TLS).
    public init(tls certificates: TestCertificates, requireClientCertificates: Bool = false, arguments: [String] = []) throws {
        port = try Self.freePort()
        extraArguments = arguments
        self.certificates = certificates
        self.requireClientCertificates = requireClientCertificates
        try start()
    }

    deinit { signal(SIGKILL, wait: false) }

    /// The URL for `RedisConfiguration(url:)`: `rediss://` for a TLS server.
    public var url: String { "\(certificates == nil ? "redis" : "rediss")://127.0.0.1:\(port)/0" }

    /// Starts the server (again) on the same port.
    public func start() throws {
        guard let path = Self.executable() else {
            throw StartError(description: "redis-server is not installed (run scripts/setup --test-tools)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        let listening = certificates?.redisArguments(port: port, requireClientCertificates: requireClientCertificates)
            ?? ["--port", String(port)]
        process.arguments = listening + [
            "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--enable-debug-command", "yes", "--loglevel", "warning",
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if Self.canConnect(port: port) { return }
            usleep(20_000)
        }
        stop()
        throw StartError(description: "redis-server did not accept connections on port \(port) within 5 s")
    }

    /// Kills the server at once (SIGKILL: no goodbye to clients, as in a crash).
    public func kill() { signal(SIGKILL, wait: true) }

    /// Stops the server and waits until it is gone. SIGKILL, because the test process blocks
    /// SIGTERM and its children inherit that mask; the server keeps nothing on disk anyway.
    public func stop() { signal(SIGKILL, wait: true) }

    /// Sends `signal`; with `wait`, polls until the process has exited and the port is free
    /// (Foundation's waitUntilExit needs a run loop, which is gone at exit).
    private func signal(_ signal: Int32, wait: Bool) {
        guard let process else { return }
        self.process = nil
        let pid = process.processIdentifier
        Glibc.kill(pid, signal)
        guard wait else { return }
        for _ in 0..<250 {
            if !process.isRunning && !Self.canConnect(port: port) { return }
            usleep(20_000)
        }
    }

    private static func executable() -> String? {
        for directory in ["/usr/bin", "/usr/local/bin", "/usr/sbin"] {
            let path = directory + "/redis-server"
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StartError(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw StartError(description: "bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw StartError(description: "getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}
