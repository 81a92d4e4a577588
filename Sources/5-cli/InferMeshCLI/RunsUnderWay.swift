import Foundation
import ResultsStore

/// The runs this process has begun and not yet ended, with their stores: what a signal fails
/// (``Interruption``) and what the heartbeat keeps alive.
///
/// While any run is under way a timer records a heartbeat for each of them every
/// `RunLiveness.heartbeatInterval`, so a reader can tell them from runs whose process was killed, even when a
/// run streams no batch for a while (a slow run, or a sweep's runs waiting their turn).
enum RunsUnderWay {
    /// Runs of `store` now under way in this process.
    static func track(_ ids: [Int64], in store: ResultsStore) { registry.track(ids, store) }

    /// Runs no longer under way (complete or failed).
    static func untrack(_ ids: [Int64]) { registry.untrack(ids) }

    /// Takes every run under way off the list and returns them: nothing beats for them afterwards.
    static func takeAll() -> [(id: Int64, store: ResultsStore)] { registry.takeAll() }

    /// The process writing runs: this host and process id.
    static let writer = RunWriter(host: RunLiveness.hostName, pid: getpid())

    private static let registry = Registry()

    private final class Registry: @unchecked Sendable {
        // @unchecked: every access is under `lock`.
        private let lock = NSLock()
        private var underWay: [(id: Int64, store: ResultsStore)] = []
        private var timer: (any DispatchSourceTimer)?

        func track(_ ids: [Int64], _ store: ResultsStore) {
            lock.lock()
            defer { lock.unlock() }
            underWay += ids.map { ($0, store) }
            guard timer == nil else { return }
            let interval = RunLiveness.heartbeatInterval
            let source = DispatchSource.makeTimerSource(queue: .global(qos: .utility))
            source.schedule(deadline: .now() + interval, repeating: interval)
            source.setEventHandler { [self] in beat() }
            source.resume()
            timer = source
        }

        func untrack(_ ids: [Int64]) {
            lock.lock()
            underWay.removeAll { ids.contains($0.id) }
            lock.unlock()
        }

        func takeAll() -> [(id: Int64, store: ResultsStore)] {
            lock.lock()
            defer { lock.unlock() }
            let runs = underWay
            underWay = []
            return runs
        }

        /// One heartbeat per store, for its runs under way. A failed beat is not an error of the run: the
        /// next batch or beat tries again, and a reader at worst sees the run as abandoned.
        private func beat() {
            lock.lock()
            let runs = underWay
            lock.unlock()
            let now = RunLiveness.timestamp(Date())
            var stores: [(store: ResultsStore, ids: [Int64])] = []
            for run in runs {
                if let index = stores.firstIndex(where: { $0.store === run.store }) {
                    stores[index].ids.append(run.id)
                } else {
                    stores.append((run.store, [run.id]))
                }
            }
            for (store, ids) in stores { try? store.beat(ids: ids, at: now) }
        }
    }
}
