import NIOCore
import NIOSSL
import RedisClient

/// TLS for Redis connections (`rediss://`), on SwiftNIO SSL: the server's certificate is
/// verified against the system's trust store or a CA file, and its name against the host
/// dialled (its IP address when the host is one); SNI carries the host name. A client
/// certificate and key give mutual TLS. Verification is off only when asked for explicitly.
public struct RedisTLS: RedisChannelSecurity {
    /// The TLS settings, as the `--redis-tls-*` flags give them.
    public struct Settings: Sendable, Hashable {
        /// PEM file of the CA certificates to trust instead of the system's, or nil.
        public var caFile: String?
        /// PEM file of the client certificate chain, for mutual TLS, or nil.
        public var certificateFile: String?
        /// PEM file of the client certificate's private key; needed with `certificateFile`.
        public var keyFile: String?
        /// Skips every check of the server's certificate (chain and name). For tests only.
        public var insecure: Bool

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, insecure: Bool = false) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.insecure = insecure
        }
    }

    /// Why the TLS settings cannot be used; the message says which file and what to do.
    public struct SettingsError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    private let context: NIOSSLContext

    /// Reads the files now, so that a missing or unreadable file stops the start.
    /// - Throws: `SettingsError` when a file cannot be read or parsed, or when only one of the
    ///   certificate and the key is given.
    public init(_ settings: Settings) throws(SettingsError) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = settings.insecure ? .none : .fullVerification
        if let caFile = settings.caFile {
            do {
                configuration.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caFile))
            } catch {
                throw SettingsError(description: "cannot read the CA certificates in \(caFile) (\(error)); give a PEM file")
            }
        }
        switch (settings.certificateFile, settings.keyFile) {
        case (nil, nil):
            break
        case let (certificateFile?, keyFile?):
            do {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { .certificate($0) }
            } catch {
                throw SettingsError(description: "cannot read the client certificate in \(certificateFile) (\(error)); give a PEM file")
            }
            do {
                configuration.privateKey = .privateKey(try NIOSSLPrivateKey(file: keyFile, format: .pem))
            } catch {
                throw SettingsError(description: "cannot read the client key in \(keyFile) (\(error)); give an unencrypted PEM key")
            }
        case (.some, nil):
            throw SettingsError(description: "a client certificate needs its key: give --redis-tls-key-file too")
        case (nil, .some):
            throw SettingsError(description: "a client key needs its certificate: give --redis-tls-cert-file too")
        }
        do {
            context = try NIOSSLContext(configuration: configuration)
        } catch {
            throw SettingsError(description: "cannot set up TLS for Redis: \(error)")
        }
    }

    public func secure(_ channel: any Channel, host: String) throws {
        // SNI takes names only: for an address, the certificate is checked against the peer's IP.
        let name = Self.isAddress(host) ? nil : host
        let handler = try NIOSSLClientHandler(context: context, serverHostname: name)
        try channel.pipeline.syncOperations.addHandler(handler, position: .first)
    }

    /// Whether `host` is an IPv4 or IPv6 literal rather than a name.
    static func isAddress(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}
