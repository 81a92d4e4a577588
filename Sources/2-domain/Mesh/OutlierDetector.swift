/// Envoy's outlier detection over a set of endpoints: consecutive errors eject an endpoint for the base
/// ejection time times its ejection count; an ejection ends at the first check (every `interval`) after it
/// expires; at most `maxEjectionPercent` of the endpoints are ejected at once.
public struct OutlierDetector: Sendable {
    public let spec: OutlierDetectionSpec
    private var consecutive: [Int]
    private var ejections: [Int]
    /// When each ejected endpoint may come back; nil while not ejected.
    private var ejectedUntil: [SimTime?]

    public init(spec: OutlierDetectionSpec, endpoints: Int) {
        self.spec = spec
        self.consecutive = Array(repeating: 0, count: endpoints)
        self.ejections = Array(repeating: 0, count: endpoints)
        self.ejectedUntil = Array(repeating: nil, count: endpoints)
    }

    public func isEjected(_ endpoint: Int) -> Bool { ejectedUntil[endpoint] != nil }

    /// Endpoints ejected now.
    public var ejectedCount: Int { ejectedUntil.reduce(0) { $0 + ($1 == nil ? 0 : 1) } }

    /// A request to `endpoint` succeeded.
    public mutating func success(_ endpoint: Int) { consecutive[endpoint] = 0 }

    /// A request to `endpoint` failed at `now`; returns whether that ejected it. `poolSize` is the number of
    /// endpoints the percentage applies to.
    public mutating func failure(_ endpoint: Int, at now: SimTime, poolSize: Int) -> Bool {
        consecutive[endpoint] += 1
        guard ejectedUntil[endpoint] == nil, consecutive[endpoint] >= spec.consecutiveErrors else { return false }
        let allowed = Int((Double(poolSize) * spec.maxEjectionPercent / 100).rounded(.down))
        guard ejectedCount < max(allowed, 0) else { return false }
        ejections[endpoint] += 1
        consecutive[endpoint] = 0
        ejectedUntil[endpoint] =
            now + SimTime(nanoseconds: spec.baseEjectionTime.nanoseconds * Int64(ejections[endpoint]))
        return true
    }

    /// The interval check at `now`: ends every ejection that has expired; returns the endpoints restored, in
    /// order.
    public mutating func check(at now: SimTime) -> [Int] {
        var restored: [Int] = []
        for endpoint in ejectedUntil.indices {
            if let until = ejectedUntil[endpoint], until <= now {
                ejectedUntil[endpoint] = nil
                restored.append(endpoint)
            }
        }
        return restored
    }
}
