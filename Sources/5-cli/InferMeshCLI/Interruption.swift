import Foundation
import ResultsStore

/// What Ctrl-C (SIGINT) or SIGTERM does to runs under way: they are marked `failed` ("interrupted"), which
/// deletes the rows they had streamed, and the process exits 128 + the signal. Without it a stopped run
/// would stay `running` with half its rows. Runs already complete are untouched.
public enum Interruption {
    /// Handles SIGINT and SIGTERM from now on; the executable calls it once at start.
    public static func install() { registry.install() }

    /// Runs of `store` under way in this process.
    static func track(_ ids: [Int64], in store: ResultsStore) { registry.track(ids, store) }

    /// Runs no longer under way (complete or failed).
    static func untrack(_ ids: [Int64]) { registry.untrack(ids) }

    private static let registry = Registry()

    private final class Registry: @unchecked Sendable {
        // @unchecked: every access is under `lock`.
        private let lock = NSLock()
        private var underWay: [(id: Int64, store: ResultsStore)] = []
        private var sources: [any DispatchSourceSignal] = []

        func install() {
            lock.lock()
            defer { lock.unlock() }
            guard sources.isEmpty else { return }
            for number in [SIGINT, SIGTERM] {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { [self] in interrupted(by: number) }
                source.resume()
                sources.append(source)
            }
        }

        func track(_ ids: [Int64], _ store: ResultsStore) {
            lock.lock()
            underWay += ids.map { ($0, store) }
            lock.unlock()
        }

        func untrack(_ ids: [Int64]) {
            lock.lock()
            underWay.removeAll { ids.contains($0.id) }
            lock.unlock()
        }

        private func interrupted(by number: Int32) {
            lock.lock()
            let runs = underWay
            underWay = []
            lock.unlock()
            let name = number == SIGINT ? "SIGINT" : "SIGTERM"
            var failed: [Int64] = []
            for (id, store) in runs where (try? store.failRun(id: id, error: "interrupted by \(name)")) != nil {
                failed.append(id)
            }
            let marked =
                failed.isEmpty ? "" : "; run(s) \(failed.map(String.init).joined(separator: ", ")) marked failed"
            FileHandle.standardError.write(Data("\ninterrupted by \(name)\(marked)\n".utf8))
            exit(128 + number)
        }
    }
}
