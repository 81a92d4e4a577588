/// The endpoint picker's plugin kinds, as the Gateway API Inference Extension defines them: filters narrow the
/// candidates, weighted scorers rate each in [0, 1], and one picker chooses from the weighted sums.

/// Drops candidates. Must not return an empty list when given a non-empty one: a filter that would drop
/// everyone keeps everyone instead, as the extension's filters fall back.
public protocol EndpointFilter: Sendable {
    func filter(_ request: RoutingRequest, _ candidates: [ReplicaView]) -> [ReplicaView]
    /// What the router must prepare for this filter.
    var needs: PolicyNeeds { get }
}

/// Rates every candidate in [0, 1]; higher is better. `scores` has one slot per candidate, to overwrite.
public protocol EndpointScorer: Sendable {
    func score(_ request: RoutingRequest, _ candidates: [ReplicaView], into scores: inout [Double])
    /// What the router must prepare for this scorer.
    var needs: PolicyNeeds { get }
    /// Told where each request went (for scorers that remember, like session affinity).
    func routed(_ request: RoutingRequest, to replica: ReplicaID)
}

extension EndpointScorer {
    public func routed(_ request: RoutingRequest, to replica: ReplicaID) {}
}

/// Chooses one candidate given the total scores.
public protocol EndpointPicker {
    mutating func pick(_ candidates: [ReplicaView], scores: [Double]) -> ReplicaID
}

/// One plugin's parameters, as written under `parameters:` in an EndpointPickerConfig.
public struct PluginParameters: Sendable, Equatable {
    public enum Value: Sendable, Equatable {
        case number(Double)
        case text(String)
    }

    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) { self.values = values }

    /// The number called `name`, or `fallback` when absent; throws when present but not a number in `range`.
    public func number(_ name: String, default fallback: Double, in range: ClosedRange<Double>) throws -> Double {
        guard let value = values[name] else { return fallback }
        guard case .number(let number) = value, range.contains(number) else {
            throw PluginError(
                parameter: name,
                message: "expected a number in \(Self.format(range.lowerBound))...\(Self.format(range.upperBound))")
        }
        return number
    }

    /// The text called `name`, one of `allowed`, or `fallback` when absent.
    public func choice(_ name: String, default fallback: String, allowed: [String]) throws -> String {
        guard let value = values[name] else { return fallback }
        guard case .text(let text) = value, allowed.contains(text) else {
            throw PluginError(parameter: name, message: "expected one of \(allowed.joined(separator: ", "))")
        }
        return text
    }

    /// Throws for any parameter not in `known`.
    public func rejectUnknown(_ known: [String]) throws {
        for name in values.keys.sorted() where !known.contains(name) {
            throw PluginError(
                parameter: name,
                message: known.isEmpty
                    ? "this plugin takes no parameters" : "unknown parameter; known: \(known.joined(separator: ", "))")
        }
    }

    private static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}

/// A bad plugin parameter, located by the scenario loader.
public struct PluginError: Error, Sendable, Equatable {
    /// The parameter's name, or nil for the plugin as a whole.
    public var parameter: String?
    public var message: String
}
