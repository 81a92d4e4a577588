import Fleet

extension NodeReader {
    /// One entry of `pools`: a name, a replica count and exactly one replica kind block.
    func pool() throws(ScenarioError) -> PoolSpec {
        let kinds = ReplicaSpec.kindNames
        let fields = try mapping(
            keys: ScenarioKeys.pool,
            what: "a pool mapping with `name`, `replicas` and a replica kind block (\(kinds.joined(separator: ", ")))")
        let name = try fields.required("name", expecting: "a name of letters, digits, `.`, `_` and `-`").name()
        let replicas = try fields.required("replicas", expecting: "an integer in 1...100000").integer(in: 1...100_000)
        let present = kinds.filter { fields[$0] != nil }
        guard let kind = present.first, let block = fields[kind] else {
            throw fields.reader.error("expected one replica kind block: \(kinds.joined(separator: ", "))")
        }
        if present.count > 1, let second = fields.keyReader(present[1]) {
            throw second.error("expected one replica kind block, found \(present.joined(separator: " and "))")
        }
        switch kind {
        case "station": return PoolSpec(name: name, replicas: replicas, replica: .station(try block.station()))
        default:
            // A kind registered in the domain but not yet readable from files.
            throw fields.keyReader(kind)?.error("replica kind `\(kind)` cannot be read from scenario files yet")
                ?? fields.reader.error("replica kind `\(kind)` cannot be read from scenario files yet")
        }
    }

    /// A `station` block: c servers sharing one FIFO queue.
    func station() throws(ScenarioError) -> StationSpec {
        let fields = try mapping(keys: ScenarioKeys.station, what: "a station mapping with `servers` and `service`")
        let servers = try fields.required("servers", expecting: "an integer in 1...100000").integer(in: 1...100_000)
        let service = try fields.required(
            "service", expecting: "a service-time distribution, like {dist: exponential, mean: 1s}"
        )
        .distribution(of: .duration)
        let maxQueue = try fields["max-queue"]?.integer(in: 0...Int.max)
        return StationSpec(servers: servers, serviceSeconds: service, maxQueue: maxQueue)
    }
}
