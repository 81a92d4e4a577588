@_exported public import Fleet

/// A loaded, validated scenario: the fleet to simulate, the policies to compare, and where it came from.
public struct Scenario: Sendable {
    /// The scenario's name (from the file, or the file's base name).
    public var name: String
    /// Free text describing the scenario; empty when absent.
    public var description: String
    /// The base seed; replication `r` of a run derives its own seed from it.
    public var seed: UInt64
    /// How many independent replications each policy runs.
    public var replications: Int
    /// Registered routing policy names to compare, in the file's order.
    public var policies: [String]
    /// Pools, workloads and the run's time frame.
    public var fleet: FleetSpec
    /// The exact text of the file, kept so that results can be traced to it.
    public var sourceText: String
    /// Lowercase hex SHA-256 of `sourceText`'s UTF-8 bytes.
    public var sha256: String
    /// The file path as given to the loader.
    public var file: String

    /// Creates a scenario from its parts; ``ScenarioLoader`` is the usual way to get one.
    public init(
        name: String, description: String, seed: UInt64, replications: Int, policies: [String],
        fleet: FleetSpec, sourceText: String, sha256: String, file: String
    ) {
        self.name = name
        self.description = description
        self.seed = seed
        self.replications = replications
        self.policies = policies
        self.fleet = fleet
        self.sourceText = sourceText
        self.sha256 = sha256
        self.file = file
    }
}
