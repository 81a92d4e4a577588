public import Fleet

/// Metrics of a traffic spike: latency while the rate is above its base, and how long the fleet takes to
/// recover.
public enum SpikeMetrics {
    /// Where some workload's scheduled rate is above its base `rate`: from the first such piece's start to the
    /// last one's end (the horizon if it never comes down). Nil without such a schedule; a diurnal cycle is
    /// not a spike.
    public static func window(_ spec: FleetSpec) -> (start: SimTime, end: SimTime)? {
        var start = Double.infinity, end = -Double.infinity
        for workload in spec.workloads {
            guard let schedule = workload.schedule else { continue }
            let base = workload.ratePerSecond * (1 + 1e-9)
            for (index, piece) in schedule.pieces.enumerated() {
                let elevated: Bool
                switch piece.shape {
                case .constant(let rate): elevated = rate > base
                case .linear(let from, let to): elevated = max(from, to) > base
                case .sinusoid: elevated = false
                }
                guard elevated else { continue }
                start = min(start, piece.startSeconds)
                let next = index + 1 < schedule.pieces.count ? schedule.pieces[index + 1].startSeconds : .infinity
                end = max(end, min(next, spec.horizon.seconds))
            }
        }
        guard start.isFinite, end > start else { return nil }
        return (SimTime.seconds(start), SimTime.seconds(end))
    }

    /// Width of the buckets recovery is judged on.
    public static let bucket = SimTime.seconds(10)
}

/// The spike metrics of one run, taken request by request (in arrival order, as a run hands them out).
///
/// Recovery is judged per 10-second bucket (by arrival) after the spike's start: a bucket is recovered when
/// the TTFT p99 of its requests (nearest rank) is at most twice the pre-spike p99, where a request that
/// ended without a first token (rejected, or timed out while queued) counts as infinitely slow and one still
/// in flight is ignored. `recovery_s` is the time from the start to the first bucket from which every later
/// one is recovered; NaN if the last is not (or there is no baseline). A bucket needs only its count and how
/// many of its requests are over the bar, which is fixed once the first request at or after the start
/// arrives: every earlier one has been seen by then.
struct SpikeAccumulator {
    let start: SimTime
    let end: SimTime
    let horizon: SimTime
    private var during = 0
    private var met = 0
    private var ttft = LatencySketch()
    private var e2e = LatencySketch()
    private var before = LatencySketch()
    /// Twice the pre-spike TTFT p99 in ms, once fixed.
    private var bar: Double?
    private var buckets: [(count: Int, over: Int)]

    init(start: SimTime, end: SimTime, horizon: SimTime) {
        self.start = start
        self.end = end
        self.horizon = horizon
        let count = horizon > start ? Int((horizon - start).nanoseconds / SpikeMetrics.bucket.nanoseconds) : 0
        self.buckets = Array(repeating: (0, 0), count: Swift.max(0, count))
    }

    /// Takes a measured request.
    mutating func add(_ record: RequestRecord, slo: SLO) {
        guard record.arrival >= start else {
            if let value = record.ttft { before.record(value) }
            return
        }
        if record.arrival < end {
            during += 1
            if record.status == .completed {
                if RunSummary.meets(slo, record) { met += 1 }
                if let value = record.ttft { ttft.record(value) }
                if let value = record.e2e { e2e.record(value) }
            }
        }
        let bar = self.bar ?? 2 * before.quantileMilliseconds(0.99)
        self.bar = bar
        let index = Int((record.arrival - start).nanoseconds / SpikeMetrics.bucket.nanoseconds)
        guard index < buckets.count else { return }
        let latency: Double
        if let first = record.firstToken {
            latency = (first - record.arrival).milliseconds
        } else if record.status != .unfinished {
            latency = .infinity
        } else {
            return
        }
        buckets[index].count += 1
        if latency > bar { buckets[index].over += 1 }
    }

    func append(to summary: inout RunSummary) {
        summary.append("spike_start_s", start.seconds)
        summary.append("spike_end_s", end.seconds)
        summary.append("spike_requests", Double(during))
        summary.append("spike_slo_attainment", during == 0 ? .nan : Double(met) / Double(during))
        summary.appendLatency("spike_ttft_ms", ttft)
        summary.appendLatency("spike_e2e_ms", e2e)
        let baseline = before.quantileMilliseconds(0.99)
        summary.append("baseline_ttft_ms_p99", baseline)
        summary.append("recovery_s", recovery(baseline: baseline))
    }

    private func recovery(baseline: Double) -> Double {
        guard baseline.isFinite, !buckets.isEmpty else { return .nan }
        var recoveredFrom: Int?
        for index in buckets.indices.reversed() {
            let (count, over) = buckets[index]
            // The nearest-rank p99 is within the bar when no more than count − ⌈0.99·count⌉ values are over.
            let recovered = count == 0 || over <= count - Int((0.99 * Double(count)).rounded(.up))
            guard recovered else { break }
            recoveredFrom = index
        }
        guard let first = recoveredFrom else { return .nan }
        return SimTime(nanoseconds: SpikeMetrics.bucket.nanoseconds * Int64(first)).seconds
    }
}
