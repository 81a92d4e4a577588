/// One registered routing policy.
public struct PolicyEntry: Sendable {
    /// Kebab-case name, as written in scenarios and on the command line.
    public let name: String
    /// One line on what it does.
    public let summary: String
    /// Builds one instance for one pool.
    public let make: @Sendable (PolicyContext) -> any RoutingPolicy

    public init(name: String, summary: String, make: @escaping @Sendable (PolicyContext) -> any RoutingPolicy) {
        self.name = name
        self.summary = summary
        self.make = make
    }
}

/// Every routing policy, by kebab-case name. A new policy is one file plus one line here.
public enum PolicyRegistry {
    /// The policies in the order `infermesh list policies` prints them.
    public static let entries: [PolicyEntry] = [
        PolicyEntry(name: "round-robin", summary: "Cycles through the pool's replicas in id order.") { _ in
            RoundRobinPolicy()
        },
        PolicyEntry(name: "random", summary: "Picks a replica uniformly at random from the policy's seeded stream.") {
            RandomPolicy(stream: $0.stream())
        },
        PolicyEntry(
            name: "least-connections",
            summary: "Picks the replica with the fewest requests outstanding at the router; ties at random."
        ) { LeastConnectionsPolicy(stream: $0.stream()) },
        PolicyEntry(
            name: "power-of-two",
            summary: "Samples two replicas and takes the one with fewer requests outstanding at the router."
        ) { PowerOfTwoPolicy(stream: $0.stream()) },
        PolicyEntry(
            name: "inference-aware",
            summary: "Endpoint picker: queue-scorer 2, kv-cache-utilization-scorer 2, prefix-cache-scorer 3 "
                + "(approximate index), max-score-picker."
        ) { try! EndpointPickerConfig.builtIn.policy(profile: "inference-aware", stream: $0.stream()) },
        PolicyEntry(
            name: "inference-aware-precise",
            summary: "inference-aware with the prefix scorer fed by the replicas' own caches (KV events)."
        ) { try! EndpointPickerConfig.builtIn.policy(profile: "inference-aware-precise", stream: $0.stream()) },
        PolicyEntry(
            name: "prefix-affinity-until-saturated",
            summary:
                "Best prefix match while the saturation detector says it is not full; else the least-loaded replica."
        ) { PrefixAffinityUntilSaturatedPolicy(stream: $0.stream(), saturation: $0.saturation) },
        PolicyEntry(
            name: "uniform",
            summary: "Every healthy endpoint in every cluster alike, the mesh's pooled connections picking remote "
                + "backends (ambient's default across clusters)."
        ) { UniformPolicy(stream: $0.stream()) },
        PolicyEntry(
            name: "local-first",
            summary: "inference-aware within the origin's cluster; other clusters, by failover priority, only "
                + "when it has no healthy replica."
        ) { context in
            LocalityFirstPolicy(
                inner: try! EndpointPickerConfig.builtIn.policy(profile: "inference-aware", stream: context.stream()),
                spillAt: nil)
        },
        PolicyEntry(
            name: "spillover",
            summary: "local-first, spilling to the next locality when every local replica is saturated (the "
                + "saturation detector)."
        ) { context in
            LocalityFirstPolicy(
                inner: try! EndpointPickerConfig.builtIn.policy(profile: "inference-aware", stream: context.stream()),
                spillAt: context.saturation)
        },
        PolicyEntry(
            name: "global-inference-aware",
            summary: "inference-aware over every cluster, with network-cost-scorer 2 penalizing the round trip."
        ) { try! EndpointPickerConfig.builtIn.policy(profile: "global-inference-aware", stream: $0.stream()) },
    ]

    /// The registered names, in order.
    public static var names: [String] { entries.map(\.name) }

    /// The entry called `name`, if registered.
    public static func entry(named name: String) -> PolicyEntry? { entries.first { $0.name == name } }
}
