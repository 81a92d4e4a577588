/// A plugin instance of an EndpointPickerConfig: its type, its name (the type when omitted) and parameters.
public struct PluginSpec: Sendable, Equatable {
    public var type: String
    public var name: String
    public var parameters: PluginParameters

    public init(type: String, name: String? = nil, parameters: PluginParameters = PluginParameters()) {
        self.type = type
        self.name = name ?? type
        self.parameters = parameters
    }
}

/// A scheduling profile: references to plugins by name, with a weight for each scorer.
public struct SchedulingProfileSpec: Sendable, Equatable {
    public struct Reference: Sendable, Equatable {
        public var pluginRef: String
        /// A scorer's weight (the extension's default is 1); ignored for filters and pickers.
        public var weight: Double

        public init(pluginRef: String, weight: Double = 1) {
            self.pluginRef = pluginRef
            self.weight = weight
        }
    }

    public var name: String
    public var plugins: [Reference]

    public init(name: String, plugins: [Reference]) {
        self.name = name
        self.plugins = plugins
    }
}

/// The endpoint picker's configuration, shaped as the inference extension's EndpointPickerConfig: plugin
/// instances, and named scheduling profiles that use them. Each profile is a routing policy named after it.
public struct EndpointPickerConfig: Sendable, Equatable {
    public var plugins: [PluginSpec]
    public var schedulingProfiles: [SchedulingProfileSpec]

    public init(plugins: [PluginSpec], schedulingProfiles: [SchedulingProfileSpec]) {
        self.plugins = plugins
        self.schedulingProfiles = schedulingProfiles
    }

    /// Builds the policy for profile `name`, its pickers drawing from `stream`. Throws ``PluginError`` for a
    /// configuration the scenario loader would have rejected.
    public func policy(profile name: String, stream: RandomStream) throws -> EndpointPickerPolicy {
        guard let profile = schedulingProfiles.first(where: { $0.name == name }) else {
            throw PluginError(parameter: nil, message: "no scheduling profile '\(name)'")
        }
        var filters: [any EndpointFilter] = []
        var scorers: [(scorer: any EndpointScorer, weight: Double)] = []
        var picker: (any EndpointPicker)?
        for reference in profile.plugins {
            guard let spec = plugins.first(where: { $0.name == reference.pluginRef }),
                let type = PluginRegistry.type(named: spec.type)
            else { throw PluginError(parameter: nil, message: "unknown plugin '\(reference.pluginRef)'") }
            switch try type.make(spec.parameters, stream) {
            case .filter(let filter): filters.append(filter)
            case .scorer(let scorer): scorers.append((scorer, reference.weight))
            case .picker(let chosen):
                guard picker == nil else { throw PluginError(parameter: nil, message: "a profile has one picker") }
                picker = chosen
            }
        }
        return EndpointPickerPolicy(
            filters: filters, scorers: scorers, picker: picker ?? MaxScorePicker(stream: stream))
    }

    /// Queue 2, KV 2, prefix 3 and the max-score picker, with the prefix scorer instance `prefix`.
    private static func weighted(_ name: String, prefix: String) -> SchedulingProfileSpec {
        SchedulingProfileSpec(
            name: name,
            plugins: [
                .init(pluginRef: "queue-scorer", weight: 2), .init(pluginRef: "kv-cache-utilization-scorer", weight: 2),
                .init(pluginRef: prefix, weight: 3), .init(pluginRef: "max-score-picker"),
            ])
    }

    /// The built-in profiles: `inference-aware` (queue 2, KV 2, prefix 3, as the extension's defaults, with its
    /// approximate prefix index) and `inference-aware-precise` (the same, fed by the replicas' own caches).
    public static let builtIn = EndpointPickerConfig(
        plugins: [
            PluginSpec(type: "queue-scorer"), PluginSpec(type: "kv-cache-utilization-scorer"),
            PluginSpec(type: "prefix-cache-scorer"),
            PluginSpec(
                type: "prefix-cache-scorer", name: "precise-prefix-cache-scorer",
                parameters: PluginParameters(["mode": .text("precise")])),
            PluginSpec(type: "max-score-picker"), PluginSpec(type: "network-cost-scorer"),
        ],
        schedulingProfiles: [
            weighted("inference-aware", prefix: "prefix-cache-scorer"),
            weighted("inference-aware-precise", prefix: "precise-prefix-cache-scorer"),
            SchedulingProfileSpec(
                name: "global-inference-aware",
                plugins: weighted("global", prefix: "prefix-cache-scorer").plugins.dropLast() + [
                    .init(pluginRef: "network-cost-scorer", weight: 2), .init(pluginRef: "max-score-picker"),
                ]),
        ])
}

/// A scheduling profile as a routing policy: filters, then the weighted sum of the scorers, then the picker.
public struct EndpointPickerPolicy: RoutingPolicy {
    private let filters: [any EndpointFilter]
    private let scorers: [(scorer: any EndpointScorer, weight: Double)]
    private var picker: any EndpointPicker
    public let needs: PolicyNeeds
    private var scratch: [Double] = []
    private var totals: [Double] = []

    init(
        filters: [any EndpointFilter], scorers: [(scorer: any EndpointScorer, weight: Double)],
        picker: any EndpointPicker
    ) {
        self.filters = filters
        self.scorers = scorers
        self.picker = picker
        var needs = PolicyNeeds()
        for filter in filters { needs = needs.union(filter.needs) }
        for (scorer, _) in scorers { needs = needs.union(scorer.needs) }
        self.needs = needs
    }

    public mutating func pick(_ request: RoutingRequest, from candidates: [ReplicaView]) -> ReplicaID {
        var kept = candidates
        for filter in filters { kept = filter.filter(request, kept) }
        totals.removeAll(keepingCapacity: true)
        totals.append(contentsOf: repeatElement(0, count: kept.count))
        for (scorer, weight) in scorers {
            scratch.removeAll(keepingCapacity: true)
            scratch.append(contentsOf: repeatElement(0, count: kept.count))
            scorer.score(request, kept, into: &scratch)
            for index in kept.indices { totals[index] += weight * scratch[index] }
        }
        return picker.pick(kept, scores: totals)
    }

    public mutating func routed(_ request: RoutingRequest, to replica: ReplicaID) {
        for (scorer, _) in scorers { scorer.routed(request, to: replica) }
    }
}
