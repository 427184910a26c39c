import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real Redis Cluster for tests: six `redis-server`s in cluster mode on free loopback ports,
/// made into 3 primaries with a replica each by `redis-cli --cluster create`, every node in a
/// directory of its own. Tests fail, never skip, when Redis is not installed.
public final class RedisTestCluster: Sendable {
    public let nodes: [RedisTestServer]

    /// One cluster shared by every test of this process, killed at exit.
    public static let shared: RedisTestCluster = {
        do {
            let cluster = try RedisTestCluster()
            for node in cluster.nodes { _ = node.killedAtExit() }
            return cluster
        } catch {
            fatalError("cannot start a Redis Cluster for the tests: \(error)")
        }
    }()

    /// Starts the six nodes, creates the cluster and waits until every node says it is ok.
    /// - Throws: `RedisTestServer.StartError` when a node does not start or the cluster does not
    ///   form within 30 s.
    public init() throws {
        let base = FileManager.default.temporaryDirectory.appendingPathComponent("sessiond-cluster-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        var nodes: [RedisTestServer] = []
        for index in 0..<6 {
            let directory = base.appendingPathComponent("\(index)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // The cluster bus needs a port of its own (port + 10000 by default, which may be taken).
            nodes.append(try RedisTestServer(arguments: [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", String(try RedisTestServer.freePort()),
                "--cluster-node-timeout", "1000", "--dir", directory.path,
            ]))
        }
        self.nodes = nodes
        let created = try Self.redisCLI(
            ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", "1", "--cluster-yes"]
        )
        guard created.status == 0 else {
            throw RedisTestServer.StartError(description: "redis-cli --cluster create failed: \(created.output)")
        }
        let deadline = Date().addingTimeInterval(30)
        for node in nodes {
            while true {
                let info = try Self.redisCLI(["-p", String(node.port), "cluster", "info"]).output
                if info.contains("cluster_state:ok") && info.contains("cluster_slots_assigned:16384") { break }
                guard Date() < deadline else {
                    throw RedisTestServer.StartError(description: "the Redis Cluster did not reach cluster_state:ok within 30 s")
                }
                usleep(100_000)
            }
        }
    }

    /// The nodes as `--redis-cluster` takes them (all six: any of them serves as a seed).
    public var seeds: String { nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    private static func redisCLI(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
