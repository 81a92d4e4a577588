import Fleet
import Foundation
import ResultsStore

/// Streams a run's request and sample rows into the store in batches while the run goes on, so memory does
/// not grow with the number of requests. Batches are written on a background thread, overlapping the
/// simulation; the rows and their order are the run's own, so what is stored does not depend on timing.
final class RowStreamer: RunSink, @unchecked Sendable {
    // @unchecked: `requests` and `samples` belong to the run's thread; `failure` is under `lock`.
    /// Rows per batch: large enough to amortize a transaction, small enough to keep memory flat.
    static let batchRows = 8_192
    /// Batches written or waiting to be, at most: the run waits rather than queue more.
    static let batchesInFlight = 3

    let store: ResultsStore
    let runID: Int64
    private let workloadNames: [String]
    private let clusterNames: [String]?
    /// The run's LoRA adapter table, to name each request's adapter.
    private let adapterNames: [String]
    /// Whether some pool has a CPU tier of KV blocks (`request.loaded_tokens` is NULL otherwise).
    private let hasCPUTier: Bool
    private var requests: [RequestRow] = []
    private var samples: [SampleRow] = []
    private let writer = DispatchQueue(label: "infermesh.row-streamer")
    private let slots = DispatchSemaphore(value: RowStreamer.batchesInFlight)
    private let lock = NSLock()
    private var failure: (any Error)?

    init(store: ResultsStore, runID: Int64, spec: FleetSpec) {
        self.store = store
        self.runID = runID
        self.workloadNames = spec.workloads.map(\.name)
        self.clusterNames = spec.mesh?.clusters.map(\.name)
        self.adapterNames = spec.adapterNames
        self.hasCPUTier = spec.pools.contains { pool in
            if case .gpu(let gpu) = pool.replica { return gpu.kvOffload != nil }
            return false
        }
        requests.reserveCapacity(Self.batchRows)
    }

    func accept(_ request: FinishedRequest) {
        requests.append(
            Self.row(
                request, workloadNames: workloadNames, clusterNames: clusterNames, adapterNames: adapterNames,
                hasCPUTier: hasCPUTier))
        if requests.count >= Self.batchRows { flush() }
    }

    func accept(_ sample: GaugeSample) {
        samples.append(Self.row(sample))
        if samples.count >= Self.batchRows { flush() }
    }

    /// Writes the rows left and waits for every batch; rethrows the first write's failure.
    func finish() throws {
        flush()
        writer.sync {}
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
    }

    /// Waits for the batches already handed over, so that nothing is written after the run is failed.
    func abandon() {
        requests.removeAll()
        samples.removeAll()
        writer.sync {}
    }

    private func flush() {
        guard !requests.isEmpty || !samples.isEmpty else { return }
        let batch = (requests, samples)
        requests = []
        requests.reserveCapacity(Self.batchRows)
        samples = []
        slots.wait()
        writer.async { [self] in
            defer { slots.signal() }
            guard !failed else { return }
            do {
                // Each batch is also a heartbeat (RunLiveness): a run that streams is alive.
                try store.appendRows(
                    id: runID, requests: batch.0, samples: batch.1, heartbeat: RunLiveness.timestamp(Date()))
            } catch {
                lock.lock()
                failure = failure ?? error
                lock.unlock()
            }
        }
    }

    private var failed: Bool {
        lock.lock()
        defer { lock.unlock() }
        return failure != nil
    }

    static func row(
        _ request: FinishedRequest, workloadNames: [String], clusterNames: [String]?, adapterNames: [String] = [],
        hasCPUTier: Bool = false
    ) -> RequestRow {
        let record = request.record
        let link = request.session
        var row = RequestRow(
            requestID: Int64(record.id.index), workload: workloadNames[record.workload.index],
            replica: record.replica?.index, arrivalNs: record.arrival.nanoseconds,
            startNs: record.start?.nanoseconds, firstTokenNs: record.firstToken?.nanoseconds,
            endNs: record.end?.nanoseconds, inputTokens: record.inputTokens,
            outputTokens: record.outputTokens, status: (record.status ?? .unfinished).rawValue,
            cachedTokens: record.cachedTokens, preemptions: record.preemptions,
            itlMaxNs: record.maxInterTokenLatency?.nanoseconds, routedNs: record.routed?.nanoseconds,
            sessionID: link.map { Int64($0.session) }, turn: link?.turn, subagent: link?.subagent,
            originCluster: request.path.flatMap { path in clusterNames.map { $0[path.origin] } },
            networkNs: request.path?.networkNanoseconds, attempts: request.path?.attempts,
            crossCluster: request.path?.crossCluster,
            prefillReplica: request.disaggregation?.prefillReplica.index,
            kvTransferNs: request.disaggregation?.kvTransferNanoseconds,
            kvTransferBytes: request.disaggregation?.kvTransferBytes,
            loraAdapter: record.adapter.map { adapterNames[$0] })
        row.loadedTokens = hasCPUTier ? record.loadedTokens : nil
        return row
    }

    static func row(_ sample: GaugeSample) -> SampleRow {
        SampleRow(
            timeNs: sample.time.nanoseconds, replica: sample.replica.index,
            numRequestsWaiting: sample.gauges.numRequestsWaiting,
            numRequestsRunning: sample.gauges.numRequestsRunning,
            kvCacheUsagePerc: sample.gauges.kvCacheUsagePerc, busyFraction: sample.busyFraction,
            tokensPerSecond: sample.tokensPerSecond,
            generationTokensPerSecond: sample.generationTokensPerSecond,
            prefixCacheHitRate: sample.prefixCacheHitRate)
    }
}
