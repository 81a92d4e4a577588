import Fleet
import Foundation
import Testing

/// docs/writing-a-policy.md's worked example: its code is WritingAPolicyExample.swift and the registry line
/// below, compiled here; the tests keep the page and the code equal, and check the policy's rule and its
/// effect on a fleet.
@Suite struct WritingAPolicyTests {
    /// The registry line of docs/writing-a-policy.md, as `PolicyRegistry.entries` would hold it.
    static let entry =
        PolicyEntry(
            name: "fewest-waiting",
            summary: "Fewest requests waiting at the last scrape; ties to fewer outstanding, then the lowest id."
        ) { _ in FewestWaitingPolicy() }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    /// The contents of the page's ```swift blocks, in order, without the indentation of their fences (a list
    /// item's block is indented in Markdown).
    static func swiftBlocks() throws -> [String] {
        let page = try text("docs/writing-a-policy.md")
        var blocks: [String] = []
        var current: [String]?
        var indent = 0
        for line in page.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if current == nil, trimmed == "```swift" {
                current = []
                indent = line.prefix { $0 == " " }.count
            } else if current != nil, trimmed == "```" {
                blocks.append(current!.joined(separator: "\n") + "\n")
                current = nil
            } else if current != nil {
                current!.append(String(line.dropFirst(min(indent, line.prefix { $0 == " " }.count))))
            }
        }
        return blocks
    }

    /// Lines without their indentation, blank ones dropped.
    static func unindented(_ text: String) -> [String] {
        text.components(separatedBy: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// The page shows the example file as it is, without its `import` (a file in the Routing module needs none).
    @Test func thePageShowsTheExampleFileVerbatim() throws {
        let file = try Self.text("Tests/DomainTests/WritingAPolicyExample.swift")
        let body = file.components(separatedBy: "\n").drop { $0.hasPrefix("public import ") || $0.isEmpty }
            .joined(separator: "\n")
        let blocks = try Self.swiftBlocks()
        #expect(blocks.count == 2, "expected the policy file and the registry line")
        #expect(blocks.first == body, "docs/writing-a-policy.md's first swift block is not the example file")
    }

    /// The page's registry line is the one compiled above.
    @Test func thePageShowsTheRegistryLineCompiledHere() throws {
        let line = try #require(try Self.swiftBlocks().dropFirst().first)
        var expected = Self.unindented(line)
        if expected.last?.hasSuffix(",") == true { expected[expected.count - 1].removeLast() }
        let source = Self.unindented(try Self.text("Tests/DomainTests/WritingAPolicyTests.swift"))
        let found = source.indices.contains { start in
            source[start...].starts(with: expected)
        }
        #expect(found, "docs/writing-a-policy.md's registry line differs from WritingAPolicyTests.entry")
        #expect(Self.entry.name == "fewest-waiting" && PolicyRegistry.entry(named: Self.entry.name) == nil)
    }

    /// The rule on hand-built views: fewest waiting, then fewest outstanding, then the lowest id.
    @Test func picksFewestWaitingThenFewestOutstandingThenLowestID() {
        var policy = FewestWaitingPolicy()
        let request = RoutingRequest(
            id: RequestID(0), workload: WorkloadID(0), inputTokens: 10, outputTokens: 10, criticality: .standard)
        let views = [
            ReplicaView(id: ReplicaID(0), outstanding: 0, waiting: 3),
            ReplicaView(id: ReplicaID(1), outstanding: 5, waiting: 1),
            ReplicaView(id: ReplicaID(2), outstanding: 2, waiting: 1),
            ReplicaView(id: ReplicaID(3), outstanding: 2, waiting: 1),
        ]
        #expect(policy.pick(request, from: views) == ReplicaID(2))
        #expect(policy.pick(request, from: Array(views.prefix(2))) == ReplicaID(1))
        #expect(policy.pick(request, from: views.map { ReplicaView(id: $0.id, outstanding: 1) }) == ReplicaID(0))
        #expect(policy.needs == PolicyNeeds(metrics: true))
    }

    /// Runs `spec` with `entry`, which is not registered, through the same entry point as registered policies.
    static func run(_ spec: FleetSpec, entry: PolicyEntry, seed: UInt64) throws -> [RequestRecord] {
        try FleetRun.execute(spec, policy: entry, seed: seed).requests
    }

    /// Three one-server stations with 1 s of service, metrics read live, requests evenly spaced.
    static func fleet(gapSeconds: Double) -> FleetSpec {
        FleetSpec(
            pools: [
                PoolSpec(
                    name: "pool", replicas: 3,
                    replica: .station(StationSpec(servers: 1, serviceSeconds: .constant(1))))
            ],
            workloads: [
                WorkloadSpec(name: "even", ratePerSecond: 1 / gapSeconds, arrival: .deterministic, pool: "pool")
            ],
            horizon: .seconds(20), router: RouterSpec(refreshInterval: .zero))
    }

    /// In a fleet: while replica 0 is idle it takes everything (ties go to the lowest id); when requests come
    /// faster than one server serves them, each goes to the replica that is idle, so none ever waits.
    @Test func inAFleetItSendsEachRequestToAnIdleReplica() throws {
        // The first arrival comes one gap in, and none at the 20 s horizon.
        let idle = try Self.run(Self.fleet(gapSeconds: 2), entry: Self.entry, seed: 1)
        #expect(idle.count == 9)
        #expect(idle.allSatisfy { $0.replica == ReplicaID(0) })

        let busy = try Self.run(Self.fleet(gapSeconds: 0.4), entry: Self.entry, seed: 1)
        #expect(busy.count == 49)
        #expect(busy.map { $0.replica?.index ?? -1 } == busy.indices.map { $0 % 3 })
        #expect(busy.allSatisfy { $0.queueTime == .zero && $0.status == .completed })
    }
}
