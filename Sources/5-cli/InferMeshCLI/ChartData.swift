import Fleet
import Foundation
import ResultsStore

/// What the charts show, read from the database: `plot` draws it as SVG files, `report` inside its page.
struct PlotData {
    /// Policies in first-appearance order; index i has color i.
    var policies: [String] = []
    /// Per policy, ascending: TTFT and E2E (ms) of completed requests that arrived in the measurement window,
    /// over every selected run of the policy.
    var ttftMs: [[Double]] = []
    var e2eMs: [[Double]] = []
    /// Per policy, the replica gauges of its first selected run.
    var gauges: [ReplicaGauges] = []
    /// The longest horizon of the runs drawn in the time series, seconds.
    var horizonSeconds: Double = 0
    /// The spike window (s) from the first run that has `spike_start_s` and `spike_end_s`.
    var spike: (start: Double, end: Double)?
    /// The faults of the first run drawn in the time series that had any.
    var faults: [FaultWindow] = []

    /// No charts yet; the caller fills the fields.
    init() {}

    /// The charts of `runs`: every run's latencies, and the gauges of each policy's first run.
    init(store: ResultsStore, runs: [StoredRun]) throws {
        policies = RunSelectionOptions.policies(of: runs)
        ttftMs = Array(repeating: [], count: policies.count)
        e2eMs = ttftMs
        let completed = RequestStatus.completed.rawValue
        let columns = RunSelectionOptions.columns(of: runs)
        for (run, column) in zip(runs, columns) {
            let policy = policies.firstIndex(of: column)!
            try store.forEachRow(
                table: "request", columns: ["arrival_ns", "first_token_ns", "end_ns", "status"], runID: run.id,
                orderBy: ["request_id"]
            ) { row in
                guard case .integer(let arrival) = row[0], arrival >= run.warmupNs, arrival < run.horizonNs,
                    case .text(completed) = row[3]
                else { return }
                if case .integer(let first) = row[1] { ttftMs[policy].append(Double(first - arrival) / 1e6) }
                if case .integer(let end) = row[2] { e2eMs[policy].append(Double(end - arrival) / 1e6) }
            }
            if spike == nil {
                let summary = try store.summaries(runID: run.id)
                if let start = summary.first(where: { $0.metric == "spike_start_s" })?.value,
                    let end = summary.first(where: { $0.metric == "spike_end_s" })?.value, start.isFinite, end.isFinite
                {
                    spike = (start, end)
                }
            }
        }
        for index in policies.indices {
            ttftMs[index].sort()
            e2eMs[index].sort()
        }
        for name in policies {
            let run = runs[columns.firstIndex(of: name)!]
            horizonSeconds = max(horizonSeconds, Double(run.horizonNs) / 1e9)
            gauges.append(try ReplicaGauges(store: store, run: run))
            if faults.isEmpty {
                faults = FaultWindow.windows(try store.meshEvents(runID: run.id), horizonNs: run.horizonNs)
            }
        }
    }
}

/// One run's replica gauges on the run's grid of sample times, with a hole wherever a replica was not
/// provisioned.
///
/// `sample` has a row for every replica that is not off, so a replica an autoscaler has ordered but that is not
/// ready yet (`provisioning`) has rows of zeros; its `scaling_event` rows tell them apart. Both absences are
/// holes here, so a chart leaves a gap rather than draw a replica that did not exist as an idle one.
struct ReplicaGauges {
    /// A replica: its global index, pool, slot within the pool and cluster (nil without a mesh).
    struct Replica: Equatable {
        var index: Int
        var pool: String
        var slot: Int
        var cluster: String?
        /// The name the simulator and `mesh_event` give it: `pool/slot`.
        var name: String { "\(pool)/\(slot)" }
    }

    /// A provisioned replica's gauges at one sample time.
    struct Gauge: Equatable {
        var waiting: Double
        /// KV-cache use (0–1); nil for kinds without a KV cache.
        var kvCache: Double?
    }

    /// The replicas, in index order.
    private(set) var replicas: [Replica] = []
    /// Every distinct sample time of the run (s), ascending.
    private(set) var times: [Double] = []
    /// Per replica (aligned with `replicas`), per time: its gauges, or nil where it has no sample or was not
    /// provisioned.
    private(set) var gauges: [[Gauge?]] = []
    /// Each replica's position in `replicas`, by global index.
    private var position: [Int: Int] = [:]

    /// An empty grid of `replicas` (rows of `replica`, in any order).
    init(replicas rows: [ReplicaRow]) {
        var slots: [String: Int] = [:]
        for row in rows.sorted(by: { $0.replica < $1.replica }) {
            position[row.replica] = replicas.count
            replicas.append(
                Replica(index: row.replica, pool: row.pool, slot: slots[row.pool, default: 0], cluster: row.cluster))
            slots[row.pool, default: 0] += 1
        }
        gauges = Array(repeating: [], count: replicas.count)
    }

    /// The gauges of `run`, streamed from `sample` in time order.
    init(store: ResultsStore, run: StoredRun) throws {
        self.init(replicas: try store.replicas(runID: run.id))
        try store.forEachRow(
            table: "sample", columns: ["time_ns", "replica", "num_requests_waiting", "kv_cache_usage_perc"],
            runID: run.id, orderBy: ["time_ns", "replica"]
        ) { row in
            guard case .integer(let time) = row[0], case .integer(let replica) = row[1],
                case .integer(let waiting) = row[2]
            else { return }
            var kv: Double?
            if case .real(let value) = row[3] {
                kv = value
            } else if case .integer(let value) = row[3] {
                kv = Double(value)
            }
            add(timeNs: time, replica: Int(replica), gauge: Gauge(waiting: Double(waiting), kvCache: kv))
        }
        removeUnprovisioned(try store.scalingEvents(runID: run.id))
    }

    /// Adds one sample; samples come in time order (a replica the `replica` rows do not name is ignored).
    mutating func add(timeNs: Int64, replica: Int, gauge: Gauge) {
        let seconds = Double(timeNs) / 1e9
        if times.last != seconds {
            precondition(times.last.map { $0 < seconds } ?? true, "samples out of time order")
            times.append(seconds)
            for index in gauges.indices { gauges[index].append(nil) }
        }
        guard let row = position[replica] else { return }
        gauges[row][times.count - 1] = gauge
    }

    /// Drops the samples taken while a replica was `provisioning` or `off` by the scaling events (in time order)
    /// at or before each sample's time.
    mutating func removeUnprovisioned(_ events: [ScalingEventRow]) {
        for (row, replica) in replicas.enumerated() {
            let own = events.filter { $0.replica == replica.index }
            guard !own.isEmpty else { continue }
            var next = 0, provisioned = true
            for (index, time) in times.enumerated() {
                while next < own.count, Double(own[next].timeNs) / 1e9 <= time {
                    let state = ReplicaState(rawValue: own[next].state)
                    provisioned = state == .ready || state == .draining
                    next += 1
                }
                if !provisioned { gauges[row][index] = nil }
            }
        }
    }

    /// The groups the charts draw apart: one per pool and cluster, in replica order, labelled by what tells
    /// them apart (`pool`, `cluster` or `pool · cluster`); one group labelled "" when there is nothing to tell.
    var groups: [(label: String, members: [Int])] {
        var keys: [String] = []
        var members: [[Int]] = []
        let pools = Set(replicas.map(\.pool)).count, clusters = Set(replicas.compactMap(\.cluster)).count
        for (row, replica) in replicas.enumerated() {
            let key = [pools > 1 ? replica.pool : nil, clusters > 1 ? replica.cluster : nil].compactMap { $0 }
                .joined(separator: " · ")
            if let index = keys.firstIndex(of: key) {
                members[index].append(row)
            } else {
                keys.append(key)
                members.append([row])
            }
        }
        return Array(zip(keys, members))
    }
}

/// A fault of the mesh, from `fault_start` to its `fault_end` (or the horizon), in seconds.
struct FaultWindow: Equatable {
    var start: Double
    var end: Double
    /// What it hit (a replica `pool/slot`, a cluster, a link) and what it was.
    var subject: String
    var detail: String

    /// The label a chart gives it.
    var label: String { detail.isEmpty ? subject : "\(subject): \(detail)" }

    /// The fault windows of a run's `mesh_event` rows (in time order): each start paired with the first later end
    /// of the same subject and fault.
    static func windows(_ events: [MeshEventRow], horizonNs: Int64) -> [FaultWindow] {
        var windows: [FaultWindow] = []
        var open: [Int] = []
        for event in events {
            let seconds = Double(event.timeNs) / 1e9
            if event.kind == MeshEvent.Kind.faultStart.rawValue {
                open.append(windows.count)
                windows.append(
                    FaultWindow(
                        start: seconds, end: Double(horizonNs) / 1e9, subject: event.subject, detail: event.detail))
            } else if event.kind == MeshEvent.Kind.faultEnd.rawValue,
                let index = open.firstIndex(where: {
                    windows[$0].subject == event.subject && windows[$0].detail == event.detail
                })
            {
                windows[open.remove(at: index)].end = seconds
            }
        }
        return windows
    }
}
