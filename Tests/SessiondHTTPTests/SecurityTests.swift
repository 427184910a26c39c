import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import SessionCore
@testable import HTTPTransport
@testable import SessiondAPI
@testable import SessiondApp
import Testing

@Suite("API keys and namespaces")
struct SecurityTests {
    static let keyA1 = String(repeating: "a", count: 32)
    static let keyA2 = String(repeating: "b", count: 40)
    static let keyB = String(repeating: "c", count: 32)
    static let file = "# two apps\n\nteam-a:\(keyA1)\n  team-b:\(keyB)  \nteam-a:\(keyA2)\r\n"

    @Test func parsesNamespacesCommentsAndSeveralKeys() throws {
        let keys = try APIKeys.parse(Self.file)
        #expect(keys.namespaces == ["team-a", "team-b"])
        #expect(keys.namespace(for: Self.keyA1.utf8) == "team-a")
        #expect(keys.namespace(for: Self.keyA2.utf8) == "team-a")
        #expect(keys.namespace(for: Self.keyB.utf8) == "team-b")
        #expect(keys.namespace(for: String(Self.keyA1.dropLast()).utf8) == nil)
        #expect(keys.namespace(for: (Self.keyA1 + "a").utf8) == nil)
        #expect(keys.namespace(for: "".utf8) == nil)
    }

    @Test(arguments: [
        ("team-a \(String(repeating: "a", count: 32))", "line 1"), ("team-a:short", "shorter than 32"),
        ("te am:\(String(repeating: "a", count: 32))", "a namespace is"), (":\(String(repeating: "a", count: 32))", "a namespace is"),
        ("a:\(String(repeating: "k", count: 32))\nb:\(String(repeating: "k", count: 32))", "line 2: this key is already given"),
        ("a:\(String(repeating: "k", count: 20)) \(String(repeating: "k", count: 20))", "white space"), ("# nothing\n\n", "no namespace:key"),
    ])
    func refusesBadFiles(text: String, reason: String) {
        #expect {
            _ = try APIKeys.parse(text)
        } throws: { error in
            "\(error)".contains(reason)
        }
    }

    @Test func openOnlyOnLoopbackUnlessAllowed() throws {
        for host in ["127.0.0.1", "127.0.0.2", "::1", "localhost"] {
            let configuration = try SessiondConfiguration.resolve(flags: [.host: host], environment: [:], coreCount: 1)
            #expect(try Sessiond.loadKeys(configuration) == nil, "\(host)")
        }
        for host in ["0.0.0.0", "127.example.com", "10.0.0.5", "::", "1270.0.0.1"] {
            let open = try SessiondConfiguration.resolve(flags: [.host: host], environment: [:], coreCount: 1)
            #expect(throws: Sessiond.StartError.self, "\(host)") { try Sessiond.loadKeys(open) }
        }
        let allowed = try SessiondConfiguration.resolve(
            flags: [.host: "0.0.0.0"], environment: ["SESSIOND_ALLOW_UNAUTHENTICATED": "true"], coreCount: 1
        )
        #expect(try Sessiond.loadKeys(allowed) == nil)
        let missing = try SessiondConfiguration.resolve(flags: [.apiKeysFile: "/nonexistent/keys"], environment: [:], coreCount: 1)
        #expect(throws: Sessiond.StartError.self) { try Sessiond.loadKeys(missing) }
    }

    private func application(metricsNeedKey: Bool = true) throws -> Application {
        let policy = LifetimePolicy()
        let services = ["team-a": SessionService(store: MemoryStore(policy: policy), policy: policy),
                        "team-b": SessionService(store: MemoryStore(policy: policy), policy: policy)]
        return Application(
            services: services, keys: try APIKeys.parse(Self.file), storeName: "memory", metricsNeedKey: metricsNeedKey,
            logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        )
    }

    private func send(_ application: Application, _ method: HTTPMethod, _ uri: String, key: String?) throws -> Response {
        var headers = HTTPHeaders()
        if let key { headers.add(name: "Authorization", value: "Bearer \(key)") }
        let loop = EmbeddedEventLoop()
        let future = application.respond(to: Request(method: method, uri: uri, headers: headers), on: loop).1
        loop.run()
        return try future.wait()
    }

    @Test func everySessionCallNeedsAKeyOfItsNamespace() throws {
        let application = try application()
        let missing = try send(application, .POST, "/sessions", key: nil)
        #expect(missing.status == .unauthorized)
        #expect(missing.headers["WWW-Authenticate"] == [#"Bearer realm="sessiond""#])
        let wrong = try send(application, .POST, "/sessions", key: String(repeating: "z", count: 32))
        #expect(wrong.status == .unauthorized)
        #expect(wrong.headers["WWW-Authenticate"] == [#"Bearer realm="sessiond", error="invalid_token""#])
        let created = try send(application, .POST, "/sessions", key: Self.keyA1)
        #expect(created.status == .created)
        let location = try #require(created.headers["Location"].first)
        #expect(try send(application, .GET, location, key: Self.keyA2).status == .ok)
        #expect(try send(application, .GET, location, key: Self.keyB).status == .notFound)
        #expect(try send(application, .DELETE, "/subjects/u/sessions", key: nil).status == .unauthorized)
        for open in ["/livez", "/readyz", "/openapi.yaml"] {
            #expect(try send(application, .GET, open, key: nil).status == .ok, "\(open)")
        }
        #expect(try send(application, .GET, "/metrics", key: nil).status == .unauthorized)
        #expect(try send(application, .GET, "/metrics", key: Self.keyB).status == .ok)
        #expect(try send(self.application(metricsNeedKey: false), .GET, "/metrics", key: nil).status == .ok)
    }

    @Test func bearerTokens() {
        #expect(BearerToken.key(in: ["Authorization": "Bearer abc"]) == "abc")
        #expect(BearerToken.key(in: ["Authorization": "bearer   abc"]) == "abc")
        #expect(BearerToken.key(in: ["Authorization": "Basic abc"]) == nil)
        #expect(BearerToken.key(in: ["Authorization": "Bearer "]) == nil)
        var twice = HTTPHeaders()
        twice.add(name: "Authorization", value: "Bearer a")
        twice.add(name: "Authorization", value: "Bearer b")
        #expect(BearerToken.key(in: twice) == nil)
    }
}

@Suite("Metrics")
struct MetricsTests {
    @Test func exposesTheDocumentedSeriesWithHelpAndType() {
        let metrics = SessiondMetrics()
        metrics.recordRequest(route: .sessions, status: .created, duration: .milliseconds(3))
        metrics.recordProblem(slug: "session-not-found")
        metrics.sessionsCreated.increment()
        let text = String(decoding: metrics.text(), as: UTF8.self)
        for name in [
            "sessiond_http_request_duration_seconds", "sessiond_store_command_duration_seconds", "sessiond_errors_total",
            "sessiond_sessions_created_total", "sessiond_sessions_deleted_total", "sessiond_sessions_rotated_total",
            "sessiond_conditional_write_conflicts_total", "sessiond_store_up",
        ] {
            #expect(text.contains("# HELP \(name) "), "\(name)")
            #expect(text.contains("# TYPE \(name) "), "\(name)")
        }
        #expect(text.contains(#"sessiond_http_request_duration_seconds_count{route="/sessions",status_class="2xx"} 1"#))
        #expect(text.contains(#"sessiond_errors_total{type="session-not-found"} 1"#))
        #expect(text.contains("sessiond_sessions_created_total 1"))
    }
}
