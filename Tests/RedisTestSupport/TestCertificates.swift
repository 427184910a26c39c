import Foundation

/// A throwaway certificate authority with a server certificate for `localhost` and 127.0.0.1,
/// a client certificate, and a second, unrelated CA: made by `openssl` in a temporary directory
/// for the TLS tests, removed with this value.
public final class TestCertificates: @unchecked Sendable {
    // @unchecked: immutable after init.
    public let directory: URL

    public var caFile: String { path("ca.crt") }
    public var serverCertificateFile: String { path("server.crt") }
    public var serverKeyFile: String { path("server.key") }
    public var clientCertificateFile: String { path("client.crt") }
    public var clientKeyFile: String { path("client.key") }
    /// A CA that signed nothing here: trusting it must make verification fail.
    public var otherCAFile: String { path("other-ca.crt") }

    public struct MakeError: Error, CustomStringConvertible {
        public let description: String
    }

    /// - Throws: `MakeError` when openssl is missing or fails.
    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try write("server.ext", "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        try write("client.ext", "extendedKeyUsage=clientAuth\n")
        for ca in ["ca", "other-ca"] {
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(ca).key", "-out", "\(ca).crt", "-days", "2", "-subj", "/CN=sessiond test \(ca)"])
        }
        for (name, subject) in [("server", "/CN=localhost"), ("client", "/CN=sessiond")] {
            try openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
            try openssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "\(name).crt", "-days", "2", "-extfile", "\(name).ext",
            ])
        }
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// redis-server arguments that serve TLS only, on `port`, with this server certificate;
    /// with `requireClientCertificates`, clients must present one signed by the CA.
    public func redisArguments(port: Int, requireClientCertificates: Bool) -> [String] {
        [
            "--port", "0", "--tls-port", String(port), "--tls-cert-file", serverCertificateFile, "--tls-key-file", serverKeyFile,
            "--tls-ca-cert-file", caFile, "--tls-auth-clients", requireClientCertificates ? "yes" : "no",
        ]
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func write(_ name: String, _ text: String) throws {
        try Data(text.utf8).write(to: directory.appendingPathComponent(name))
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw MakeError(description: "cannot run /usr/bin/openssl (\(error)); install Debian's openssl")
        }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw MakeError(description: "openssl \(arguments.prefix(2).joined(separator: " ")) failed with status \(process.terminationStatus)")
        }
    }
}
