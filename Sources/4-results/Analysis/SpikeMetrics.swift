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

    static func append(_ output: RunOutput, to summary: inout RunSummary) {
        guard let (start, end) = window(output.spec) else { return }
        let measured = output.requests.filter(output.isMeasured)
        let during = measured.filter { $0.arrival >= start && $0.arrival < end }
        let completed = during.filter { $0.status == .completed }
        summary.append("spike_start_s", start.seconds)
        summary.append("spike_end_s", end.seconds)
        summary.append("spike_requests", Double(during.count))
        let met = completed.filter { RunSummary.meets(output.spec.slo(for: $0.workload), $0) }
        summary.append("spike_slo_attainment", during.isEmpty ? .nan : Double(met.count) / Double(during.count))
        RunSummary.appendLatency("spike_ttft_ms", completed.compactMap(\.ttft), to: &summary)
        RunSummary.appendLatency("spike_e2e_ms", completed.compactMap(\.e2e), to: &summary)
        let before = measured.filter { $0.arrival < start }.compactMap(\.ttft).map(\.milliseconds).sorted()
        let baseline = Statistics.quantile(sorted: before, 0.99)
        summary.append("baseline_ttft_ms_p99", baseline)
        summary.append("recovery_s", recovery(measured, from: start, horizon: output.spec.horizon, baseline: baseline))
    }

    /// Seconds from the spike's start until every later 10-second bucket (by arrival) is recovered: the TTFT
    /// p99 of its requests at most twice the pre-spike p99, where a request that ended without a first token
    /// (rejected, or timed out while queued) counts as infinitely slow and one still in flight is ignored. NaN
    /// if the last bucket is not recovered (or there is no baseline).
    static func recovery(
        _ measured: [RequestRecord], from start: SimTime, horizon: SimTime, baseline: Double
    )
        -> Double
    {
        guard baseline.isFinite, horizon > start else { return .nan }
        let count = Int((horizon - start).nanoseconds / bucket.nanoseconds)
        guard count > 0 else { return .nan }
        var ttfts = Array(repeating: [Double](), count: count)
        for record in measured where record.arrival >= start {
            let index = Int((record.arrival - start).nanoseconds / bucket.nanoseconds)
            guard index < count else { continue }
            if let first = record.firstToken {
                ttfts[index].append((first - record.arrival).milliseconds)
            } else if record.status != .unfinished {
                ttfts[index].append(.infinity)
            }
        }
        var recoveredFrom: Int?
        for index in (0..<count).reversed() {
            // Nearest rank, so an infinitely slow request is never interpolated into a NaN.
            let sorted = ttfts[index].sorted()
            let recovered =
                sorted.isEmpty || sorted[max(0, Int((0.99 * Double(sorted.count)).rounded(.up)) - 1)] <= 2 * baseline
            guard recovered else { break }
            recoveredFrom = index
        }
        guard let first = recoveredFrom else { return .nan }
        return SimTime(nanoseconds: bucket.nanoseconds * Int64(first)).seconds
    }
}
