/// One request's life in a run.
public struct RequestRecord: Sendable, Equatable {
    public var id: RequestID
    public var workload: WorkloadID
    /// The replica it was routed to; nil if never routed.
    public var replica: ReplicaID?
    public var arrival: SimTime
    /// When service began.
    public var start: SimTime?
    public var firstToken: SimTime?
    /// When it reached its terminal status (nil for `unfinished`).
    public var end: SimTime?
    public var inputTokens: Int
    public var outputTokens: Int
    /// Nil only while the run is in progress.
    public var status: RequestStatus?

    /// Seconds from arrival to end, for completed requests.
    public var e2e: SimTime? { status == .completed ? end.map { $0 - arrival } : nil }
    /// Time to first token, for completed requests.
    public var ttft: SimTime? { status == .completed ? firstToken.map { $0 - arrival } : nil }
    /// Time waiting before service began.
    public var queueTime: SimTime? { start.map { $0 - arrival } }
    /// Mean time per output token after the first, for completed requests with more than one output token.
    public var tpot: SimTime? {
        guard status == .completed, outputTokens > 1, let first = firstToken, let end else { return nil }
        return SimTime(nanoseconds: (end - first).nanoseconds / Int64(outputTokens - 1))
    }
}

/// One replica's gauges at one instant.
public struct GaugeSample: Sendable, Equatable {
    public var time: SimTime
    public var replica: ReplicaID
    public var gauges: ReplicaGauges
    /// Busy capacity share over the interval that ends here.
    public var busyFraction: Double
}

/// Static facts about one replica of a run.
public struct ReplicaInfo: Sendable, Equatable {
    public var id: ReplicaID
    public var pool: String
    public var name: String
    public var kind: String
    public var capacity: Int
    /// Integrals over the measurement window [warmup, horizon].
    public var window: ReplicaIntegrals
}

/// Everything one run produced.
public struct RunOutput: Sendable {
    public var spec: FleetSpec
    public var policy: String
    public var seed: UInt64
    public var requests: [RequestRecord]
    public var samples: [GaugeSample]
    public var replicas: [ReplicaInfo]
    /// Events the kernel processed.
    public var events: UInt64
    /// When the run stopped.
    public var endTime: SimTime
    public var stopReason: StopReason
    /// The digest over processed events and the final results.
    public var digest: RunDigest
    /// Wall-clock seconds spent in the event loop alone (not part of any result or digest).
    public var loopWallSeconds: Double

    /// The measurement window: [warmup, horizon].
    public var window: (start: SimTime, end: SimTime) { (spec.warmup, spec.horizon) }

    /// Whether `record` counts in metrics (it arrived in the window).
    public func isMeasured(_ record: RequestRecord) -> Bool {
        record.arrival >= spec.warmup && record.arrival < spec.horizon
    }

    /// Counts per terminal status over all requests generated, in `RequestStatus.allCases` order.
    public func statusCounts() -> [(RequestStatus, Int)] {
        var counts = Array(repeating: 0, count: RequestStatus.allCases.count)
        for record in requests {
            if let status = record.status, let index = RequestStatus.allCases.firstIndex(of: status) {
                counts[index] += 1
            }
        }
        return zip(RequestStatus.allCases, counts).map { ($0, $1) }
    }
}
